using System.Collections.ObjectModel;
using System.Reflection;
using Xunit;

namespace MSCommerce.Tests;

public sealed class CmdletMetadataTests : IClassFixture<ShimMetadata>
{
    private const string CmdletAttribute = "System.Management.Automation.CmdletAttribute";
    private const string ParameterAttribute = "System.Management.Automation.ParameterAttribute";
    private const string OutputTypeAttribute = "System.Management.Automation.OutputTypeAttribute";

    private readonly ShimMetadata metadata;

    public CmdletMetadataTests(ShimMetadata metadata) => this.metadata = metadata;

    [Theory]
    [InlineData("MSCommerce.Commands.GetMSCommercePoliciesCommand", "Get", "MSCommercePolicies")]
    [InlineData("MSCommerce.Commands.GetMSCommercePolicyCommand", "Get", "MSCommercePolicy")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPoliciesCommand", "Get", "MSCommerceProductPolicies")]
    public void Each_cmdlet_has_the_original_verb_and_noun(string typeName, string verb, string noun)
    {
        var cmdlet = AttributeData.Single(metadata.ShimType(typeName), CmdletAttribute);

        Assert.Equal([verb, noun], cmdlet.ConstructorArguments.Select(a => (string?)a.Value));
    }

    [Fact]
    public void Every_cmdlet_class_is_public_sealed_and_named_after_its_verb_and_noun()
    {
        var cmdlets = metadata.Shim.GetTypes().Where(t => t.GetCustomAttributesData().Any(a => a.AttributeType.FullName == CmdletAttribute)).ToList();

        Assert.NotEmpty(cmdlets);
        Assert.All(cmdlets, type =>
        {
            var cmdlet = AttributeData.Single(type, CmdletAttribute);
            Assert.Equal("MSCommerce.Commands." + cmdlet.ConstructorArguments[0].Value + cmdlet.ConstructorArguments[1].Value + "Command", type.FullName);
            Assert.True(type.IsPublic && type.IsSealed, type.Name + " is not public and sealed");
            Assert.Equal("MSCommerce.Commands.MSCommerceCmdletBase", type.BaseType?.FullName);
        });
    }

    [Fact]
    public void The_cmdlet_base_class_derives_from_PSCmdlet()
    {
        Assert.Equal("System.Management.Automation.PSCmdlet", metadata.ShimType("MSCommerce.Commands.MSCommerceCmdletBase").BaseType?.FullName);
    }

    [Fact]
    public void Get_MSCommercePolicies_takes_only_an_optional_positional_Token()
    {
        var parameters = Parameters("MSCommerce.Commands.GetMSCommercePoliciesCommand");

        var token = Assert.Single(parameters);
        Assert.Equal(("Token", 0, false), (token.Name, token.Position, token.Mandatory));
    }

    [Fact]
    public void Get_MSCommercePolicy_takes_a_mandatory_PolicyId_then_an_optional_Token()
    {
        var parameters = Parameters("MSCommerce.Commands.GetMSCommercePolicyCommand");

        Assert.Equal([("PolicyId", 0, true), ("Token", 1, false)], parameters.Select(p => (p.Name, p.Position, p.Mandatory)));
    }

    [Fact]
    public void Get_MSCommerceProductPolicies_takes_a_mandatory_PolicyId_then_optional_Scope_and_Token()
    {
        var parameters = Parameters("MSCommerce.Commands.GetMSCommerceProductPoliciesCommand");

        Assert.Equal([("PolicyId", 0, true), ("Scope", 1, false), ("Token", 2, false)], parameters.Select(p => (p.Name, p.Position, p.Mandatory)));
    }

    [Fact]
    public void Get_MSCommerceProductPolicies_declares_product_and_scope_policies_as_output()
    {
        var outputType = AttributeData.Single(metadata.ShimType("MSCommerce.Commands.GetMSCommerceProductPoliciesCommand"), OutputTypeAttribute);

        var types = (ReadOnlyCollection<CustomAttributeTypedArgument>)outputType.ConstructorArguments[0].Value!;
        Assert.Equal(["MSCommerce.ProductPolicy", "MSCommerce.ScopePolicy"], types.Select(t => ((Type)t.Value!).FullName));
    }

    [Fact]
    public void The_manifest_exports_exactly_the_cmdlets_the_assembly_defines()
    {
        var defined = metadata.Shim.GetTypes()
            .Select(t => t.GetCustomAttributesData().SingleOrDefault(a => a.AttributeType.FullName == CmdletAttribute))
            .Where(a => a is not null)
            .Select(a => a!.ConstructorArguments[0].Value + "-" + a.ConstructorArguments[1].Value)
            .OrderBy(n => n, StringComparer.Ordinal);
        var manifest = File.ReadAllText(Path.Combine(RepositoryRoot(), "MSCommerce.psd1"));
        var list = manifest[manifest.IndexOf("CmdletsToExport", StringComparison.Ordinal)..];
        list = list[(list.IndexOf('(') + 1)..list.IndexOf(')')];
        var exported = System.Text.RegularExpressions.Regex.Matches(list, "'([^']+)'").Select(m => m.Groups[1].Value).OrderBy(n => n, StringComparer.Ordinal);

        Assert.Equal(defined, exported);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MSCommerce.psd1")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("MSCommerce.psd1 not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("MSCommerce.Commands.GetMSCommercePoliciesCommand")]
    [InlineData("MSCommerce.Commands.GetMSCommercePolicyCommand")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPoliciesCommand")]
    public void Every_parameter_is_a_string(string typeName)
    {
        Assert.All(Parameters(typeName), p => Assert.Equal("System.String", p.Type));
    }

    [Theory]
    [InlineData("MSCommerce.Commands.GetMSCommercePoliciesCommand")]
    [InlineData("MSCommerce.Commands.GetMSCommercePolicyCommand")]
    public void Policy_cmdlets_declare_Policy_as_their_output_for_their_parameter_set(string typeName)
    {
        var type = metadata.ShimType(typeName);
        var defaultSet = (string?)AttributeData.Named(AttributeData.Single(type, CmdletAttribute), "DefaultParameterSetName");

        var outputType = AttributeData.Single(type, OutputTypeAttribute);

        var types = (ReadOnlyCollection<CustomAttributeTypedArgument>)outputType.ConstructorArguments[0].Value!;
        Assert.Equal(["MSCommerce.Policy"], types.Select(t => ((Type)t.Value!).FullName));
        var sets = (ReadOnlyCollection<CustomAttributeTypedArgument>)AttributeData.Named(outputType, "ParameterSetName")!;
        Assert.Equal([defaultSet], sets.Select(s => (string?)s.Value));
    }

    [Theory]
    [InlineData("MSCommerce.Commands.GetMSCommercePoliciesCommand")]
    [InlineData("MSCommerce.Commands.GetMSCommercePolicyCommand")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPoliciesCommand")]
    public void Parameter_sets_are_named_by_the_cmdlets_public_constant(string typeName)
    {
        var type = metadata.ShimType(typeName);
        var constant = (string?)type.GetField("DefaultParameterSet", BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue();

        Assert.Equal(constant, AttributeData.Named(AttributeData.Single(type, CmdletAttribute), "DefaultParameterSetName"));
        Assert.All(Parameters(typeName), p => Assert.Equal(constant, p.ParameterSet));
    }

    [Fact]
    public void PolicyId_binds_from_the_pipeline_by_property_name()
    {
        var policyId = Parameters("MSCommerce.Commands.GetMSCommercePolicyCommand").Single(p => p.Name == "PolicyId");

        Assert.True(policyId.FromPipelineByPropertyName);
    }

    private List<ParameterInfo> Parameters(string typeName) =>
        metadata.ShimType(typeName)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .SelectMany(p => AttributeData.All(p, ParameterAttribute).Select(a => new ParameterInfo(
                p.Name,
                p.PropertyType.FullName,
                (int?)AttributeData.Named(a, "Position") ?? int.MinValue,
                (bool?)AttributeData.Named(a, "Mandatory") ?? false,
                (bool?)AttributeData.Named(a, "ValueFromPipelineByPropertyName") ?? false,
                (string?)AttributeData.Named(a, "ParameterSetName"))))
            .OrderBy(p => p.Position)
            .ToList();

    private sealed record ParameterInfo(string Name, string? Type, int Position, bool Mandatory, bool FromPipelineByPropertyName, string? ParameterSet);
}
