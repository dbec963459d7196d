using System.Reflection;
using System.Runtime.InteropServices;

namespace MSCommerce.Tests;

/// <summary>
/// The PowerShellStandard System.Management.Automation opened for inspection only: its bodies are
/// empty stubs, so nothing of it may run. What is left of the reflection tests: ErrorCategoryTests
/// checks the category names the native core and the shim's own failures produce against
/// <c>ErrorCategory</c>, which no cmdlet run reaches for every category. The cmdlets' metadata, help
/// and output objects are pinned through a real PowerShell in tests/powershell/Parameters.Tests.ps1.
/// </summary>
public sealed class ShimMetadata : IDisposable
{
    private readonly MetadataLoadContext context;

    public ShimMetadata()
    {
        var sma = Path.Combine(AppContext.BaseDirectory, "System.Management.Automation.dll");
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Append(sma);
        context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        Automation = context.LoadFromAssemblyPath(sma);
    }

    public Assembly Automation { get; }

    public void Dispose() => context.Dispose();
}
