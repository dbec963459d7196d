using System.Reflection;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class ErrorCategoryTests : IClassFixture<ShimMetadata>
{
    private readonly ShimMetadata metadata;

    public ErrorCategoryTests(ShimMetadata metadata) => this.metadata = metadata;

    [Theory]
    // Every category rust-core/src/error.rs maps a kind to, and the ones the shim adds (NotInstalled).
    [InlineData("AuthenticationError")]
    [InlineData("PermissionDenied")]
    [InlineData("ObjectNotFound")]
    [InlineData("InvalidArgument")]
    [InlineData("LimitsExceeded")]
    [InlineData("ResourceUnavailable")]
    [InlineData("ConnectionError")]
    [InlineData("OperationTimeout")]
    [InlineData("InvalidData")]
    [InlineData("InvalidOperation")]
    [InlineData("OperationStopped")]
    [InlineData("NotSpecified")]
    [InlineData("NotInstalled")]
    public void Category_names_are_PowerShell_error_categories(string category)
    {
        var errorCategory = metadata.Automation.GetType("System.Management.Automation.ErrorCategory", throwOnError: true)!;

        Assert.Contains(category, errorCategory.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.Name));
    }

    [Fact]
    public void Shim_errors_use_only_categories_PowerShell_knows()
    {
        var errorCategory = metadata.Automation.GetType("System.Management.Automation.ErrorCategory", throwOnError: true)!;
        var known = errorCategory.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.Name).ToHashSet();

        var produced = new[]
        {
            Catch(() => CoreClient.UnwrapData(NativeMethods.Status.Cancelled, null)),
            Catch(() => CoreClient.UnwrapData(NativeMethods.Status.InvalidArgument, null)),
            Catch(() => CoreClient.UnwrapData(NativeMethods.Status.InvalidHandle, null)),
            Catch(() => CoreClient.UnwrapData(NativeMethods.Status.Internal, null)),
            Catch(() => CoreClient.UnwrapData(NativeMethods.Status.Ok, "{")),
            Catch(() => WireMapping.ToPolicy(Json.Parse("""{"kind":"x"}"""))),
        };

        Assert.All(produced, e => Assert.Contains(e.Category, known));
    }

    private static MSCommerceException Catch(Action action) => Assert.Throws<MSCommerceException>(action);
}
