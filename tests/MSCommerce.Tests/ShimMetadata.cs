using System.Reflection;
using System.Runtime.InteropServices;
using MSCommerce.Interop;

namespace MSCommerce.Tests;

/// <summary>
/// MSCommerce.dll and the PowerShellStandard System.Management.Automation opened for inspection
/// only: no constructor, attribute or method of SMA ever runs (its bodies are empty stubs).
/// </summary>
public sealed class ShimMetadata : IDisposable
{
    private readonly MetadataLoadContext context;

    public ShimMetadata()
    {
        var shim = typeof(CoreClient).Assembly.Location;
        var sma = Path.Combine(AppContext.BaseDirectory, "System.Management.Automation.dll");
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Append(shim).Append(sma);
        context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        Shim = context.LoadFromAssemblyPath(shim);
        Automation = context.LoadFromAssemblyPath(sma);
    }

    public Assembly Shim { get; }

    public Assembly Automation { get; }

    public Type ShimType(string fullName) => Shim.GetType(fullName, throwOnError: true)!;

    public void Dispose() => context.Dispose();
}

/// <summary>Reading attributes as data.</summary>
internal static class AttributeData
{
    public static CustomAttributeData Single(MemberInfo member, string attributeName) =>
        member.GetCustomAttributesData().Single(a => a.AttributeType.FullName == attributeName);

    public static IEnumerable<CustomAttributeData> All(MemberInfo member, string attributeName) =>
        member.GetCustomAttributesData().Where(a => a.AttributeType.FullName == attributeName);

    public static object? Named(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(a => a.MemberName == name).Select(a => a.TypedValue.Value).FirstOrDefault();
}
