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
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPolicyCommand", "Get", "MSCommerceProductPolicy")]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", "Update", "MSCommerceProductPolicy")]
    [InlineData("MSCommerce.Commands.ConnectMSCommerceCommand", "Connect", "MSCommerce")]
    [InlineData("MSCommerce.Commands.DisconnectMSCommerceCommand", "Disconnect", "MSCommerce")]
    [InlineData("MSCommerce.Commands.ExportMSCommercePolicyCommand", "Export", "MSCommercePolicy")]
    [InlineData("MSCommerce.Commands.TestMSCommercePolicyCommand", "Test", "MSCommercePolicy")]
    [InlineData("MSCommerce.Commands.ImportMSCommercePolicyCommand", "Import", "MSCommercePolicy")]
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

    [Theory]
    [InlineData("ProductEnum", "ProductId", "Value")]
    [InlineData("ProductToggle", "ProductId", "Enabled")]
    [InlineData("OfferTypeEnum", "OfferType", "Value")]
    [InlineData("OfferTypeToggle", "OfferType", "Enabled")]
    public void Update_takes_PolicyId_item_and_value_by_position_in_each_set(string set, string item, string value)
    {
        var parameters = ParametersIn("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", set);

        Assert.Equal([("PolicyId", 0, true), (item, 1, true), (value, 2, true), ("Token", 3, false)], parameters.Where(p => p.Position != int.MinValue).Select(p => (p.Name, p.Position, p.Mandatory)));
        Assert.Equal(["ThrottleLimit"], parameters.Where(p => p.Position == int.MinValue).Select(p => p.Name));
    }

    [Theory]
    [InlineData("ProductNameEnum", "ProductName", "Value")]
    [InlineData("ProductNameToggle", "ProductName", "Enabled")]
    [InlineData("AllEnum", "All", "Value")]
    [InlineData("AllToggle", "All", "Enabled")]
    public void Update_picks_items_by_name_or_all_in_sets_of_their_own(string set, string picker, string value)
    {
        var parameters = ParametersIn("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", set);

        Assert.Equal([("PolicyId", 0, true)], parameters.Where(p => p.Position != int.MinValue).Select(p => (p.Name, p.Position, p.Mandatory)));
        Assert.Equal([picker, value], parameters.Where(p => p.Mandatory && p.Position == int.MinValue).Select(p => p.Name).OrderBy(n => n == value));
        var optional = parameters.Where(p => !p.Mandatory).Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(picker == "All" ? ["Exclude", "Scope", "ThrottleLimit", "Token"] : ["ThrottleLimit", "Token"], optional);
    }

    [Theory]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", "ProductEnum", "ProductId")]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", "OfferTypeEnum", "OfferType")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPolicyCommand", "Product", "ProductId")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPolicyCommand", "OfferType", "OfferType")]
    public void Item_cmdlets_bind_the_policy_and_an_array_of_items_from_piped_objects(string typeName, string set, string item)
    {
        var parameters = ParametersIn(typeName, set);

        Assert.True(parameters.Single(p => p.Name == "PolicyId").FromPipelineByPropertyName);
        var items = parameters.Single(p => p.Name == item);
        Assert.True(items.FromPipelineByPropertyName);
        Assert.Equal("System.String[]", items.Type);
    }

    [Theory]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPolicyCommand")]
    public void OfferType_binds_the_ScopeId_of_piped_offer_type_items(string typeName)
    {
        var alias = AttributeData.Single(metadata.ShimType(typeName).GetProperty("OfferType")!, "System.Management.Automation.AliasAttribute");

        Assert.Contains("ScopeId", ((ReadOnlyCollection<CustomAttributeTypedArgument>)alias.ConstructorArguments[0].Value!).Select(v => (string?)v.Value));
    }

    [Fact]
    public void Update_ThrottleLimit_is_bounded_from_1_to_64()
    {
        var range = AttributeData.Single(metadata.ShimType("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand").GetProperty("ThrottleLimit")!, "System.Management.Automation.ValidateRangeAttribute");

        Assert.Equal([1, 64], range.ConstructorArguments.Select(a => Convert.ToInt32(a.Value)));
    }

    [Theory]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", "PolicyId", "MSCommerce.Completion.PolicyIdCompleter")]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", "ProductId", "MSCommerce.Completion.ProductIdCompleter")]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", "ProductName", "MSCommerce.Completion.ProductNameCompleter")]
    [InlineData("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand", "OfferType", "MSCommerce.Completion.OfferTypeCompleter")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPolicyCommand", "ProductId", "MSCommerce.Completion.ProductIdCompleter")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPolicyCommand", "OfferType", "MSCommerce.Completion.OfferTypeCompleter")]
    [InlineData("MSCommerce.Commands.GetMSCommerceProductPoliciesCommand", "PolicyId", "MSCommerce.Completion.PolicyIdCompleter")]
    [InlineData("MSCommerce.Commands.GetMSCommercePolicyCommand", "PolicyId", "MSCommerce.Completion.PolicyIdCompleter")]
    [InlineData("MSCommerce.Commands.ExportMSCommercePolicyCommand", "PolicyId", "MSCommerce.Completion.PolicyIdCompleter")]
    public void Tenant_values_complete_with_the_tenants_completer(string typeName, string parameter, string completer)
    {
        var attribute = AttributeData.Single(metadata.ShimType(typeName).GetProperty(parameter)!, "System.Management.Automation.ArgumentCompleterAttribute");

        Assert.Equal(completer, ((Type)attribute.ConstructorArguments[0].Value!).FullName);
    }

    [Theory]
    [InlineData("MSCommerce.Commands.ExportMSCommercePolicyCommand", true)]
    [InlineData("MSCommerce.Commands.ImportMSCommercePolicyCommand", true)]
    [InlineData("MSCommerce.Commands.TestMSCommercePolicyCommand", false)]
    public void Baseline_cmdlets_that_change_something_support_ShouldProcess(string typeName, bool changes)
    {
        var cmdlet = AttributeData.Single(metadata.ShimType(typeName), CmdletAttribute);

        Assert.Equal(changes, (bool?)AttributeData.Named(cmdlet, "SupportsShouldProcess") ?? false);
    }

    [Fact]
    public void Baseline_cmdlets_take_a_path_that_binds_FullName_from_piped_files()
    {
        foreach (var typeName in new[] { "MSCommerce.Commands.TestMSCommercePolicyCommand", "MSCommerce.Commands.ImportMSCommercePolicyCommand" })
        {
            var path = Parameters(typeName).Single(p => p.Name == "Path");
            var alias = AttributeData.Single(metadata.ShimType(typeName).GetProperty("Path")!, "System.Management.Automation.AliasAttribute");

            Assert.Equal((0, true, true), (path.Position, path.Mandatory, path.FromPipelineByPropertyName));
            Assert.Contains("FullName", ((ReadOnlyCollection<CustomAttributeTypedArgument>)alias.ConstructorArguments[0].Value!).Select(v => (string?)v.Value));
        }
    }

    [Fact]
    public void Update_defaults_to_ProductEnum_and_supports_ShouldProcess_with_medium_impact()
    {
        var cmdlet = AttributeData.Single(metadata.ShimType("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand"), CmdletAttribute);

        Assert.Equal("ProductEnum", AttributeData.Named(cmdlet, "DefaultParameterSetName"));
        Assert.Equal(true, AttributeData.Named(cmdlet, "SupportsShouldProcess"));
        Assert.Equal(2, Convert.ToInt32(AttributeData.Named(cmdlet, "ConfirmImpact"))); // ConfirmImpact.Medium
    }

    [Fact]
    public void Update_Value_accepts_only_the_three_policy_values()
    {
        var value = metadata.ShimType("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand").GetProperty("Value")!;
        var validateSet = AttributeData.Single(value, "System.Management.Automation.ValidateSetAttribute");

        var values = (ReadOnlyCollection<CustomAttributeTypedArgument>)validateSet.ConstructorArguments[0].Value!;
        Assert.Equal(["Enabled", "Disabled", "OnlyTrialsWithoutPaymentMethod"], values.Select(v => (string?)v.Value));
    }

    [Fact]
    public void Update_Enabled_is_a_string_checked_at_binding()
    {
        var enabled = metadata.ShimType("MSCommerce.Commands.UpdateMSCommerceProductPolicyCommand").GetProperty("Enabled")!;

        Assert.Equal("System.String", enabled.PropertyType.FullName);
        Assert.Single(AttributeData.All(enabled, "MSCommerce.Commands.ValidateEnabledAttribute"));
    }

    [Theory]
    [InlineData("Product", "ProductId", "MSCommerce.ProductPolicy")]
    [InlineData("OfferType", "OfferType", "MSCommerce.ScopePolicy")]
    public void Get_MSCommerceProductPolicy_takes_PolicyId_and_one_item_per_set(string set, string item, string output)
    {
        var type = metadata.ShimType("MSCommerce.Commands.GetMSCommerceProductPolicyCommand");

        Assert.Equal([("PolicyId", 0, true), (item, 1, true), ("Token", 2, false)], ParametersIn(type.FullName!, set).Select(p => (p.Name, p.Position, p.Mandatory)));
        var declared = AttributeData.All(type, OutputTypeAttribute)
            .Single(a => ((ReadOnlyCollection<CustomAttributeTypedArgument>)AttributeData.Named(a, "ParameterSetName")!).Any(s => (string?)s.Value == set));
        Assert.Equal(output, ((Type)((ReadOnlyCollection<CustomAttributeTypedArgument>)declared.ConstructorArguments[0].Value!)[0].Value!).FullName);
    }

    [Fact]
    public void Connect_takes_the_originals_three_positional_parameters()
    {
        var parameters = ParametersIn("MSCommerce.Commands.ConnectMSCommerceCommand", "Interactive");

        Assert.Equal(
            [("ClientId", 0, "System.String"), ("RedirectUri", 1, "System.Uri"), ("Resource", 2, "System.String")],
            parameters.Where(p => p.Position != int.MinValue).Select(p => (p.Name, p.Position, p.Type)));
    }

    [Fact]
    public void Connect_names_tenant_account_cloud_and_cache_scope_without_positions()
    {
        var parameters = ParametersIn("MSCommerce.Commands.ConnectMSCommerceCommand", "Interactive");

        Assert.Equal(
            ["AuthorityUri", "ContextScope", "Environment", "LoginHint", "ServiceUri", "TenantId"],
            parameters.Where(p => p.Position == int.MinValue).Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(
            ["AuthorityUri", "ClientId", "ContextScope", "DeviceCode", "Environment", "LoginHint", "Resource", "ServiceUri", "TenantId"],
            ParametersIn("MSCommerce.Commands.ConnectMSCommerceCommand", "DeviceCode").Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void Connect_ContextScope_takes_CurrentUser_or_Process()
    {
        var property = metadata.ShimType("MSCommerce.Commands.ConnectMSCommerceCommand").GetProperty("ContextScope")!;
        var validate = AttributeData.Single(property, "System.Management.Automation.ValidateSetAttribute");

        Assert.Equal(["CurrentUser", "Process"], ((ReadOnlyCollection<CustomAttributeTypedArgument>)validate.ConstructorArguments[0].Value!).Select(v => (string?)v.Value));
    }

    [Fact]
    public void Disconnect_takes_only_the_ForgetAccount_switch()
    {
        var parameter = Assert.Single(Parameters("MSCommerce.Commands.DisconnectMSCommerceCommand"));

        Assert.Equal(("ForgetAccount", "System.Management.Automation.SwitchParameter", false), (parameter.Name, parameter.Type, parameter.Mandatory));
    }

    [Fact]
    public void Connect_with_an_access_token_needs_nothing_else()
    {
        var parameters = ParametersIn("MSCommerce.Commands.ConnectMSCommerceCommand", "AccessToken");

        Assert.Equal([("AccessToken", true), ("Environment", false), ("ServiceUri", false)], parameters.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => (p.Name, p.Mandatory)));
    }

    [Fact]
    public void Every_cmdlet_that_calls_the_licensing_api_takes_Token()
    {
        var cmdlets = metadata.Shim.GetTypes().Where(t => t.GetCustomAttributesData().Any(a => a.AttributeType.FullName == CmdletAttribute));
        string[] connectionCmdlets = ["ConnectMSCommerceCommand", "DisconnectMSCommerceCommand", "GetMSCommerceConnectionCommand"];

        Assert.All(cmdlets, type => Assert.Equal(!connectionCmdlets.Contains(type.Name), type.GetProperty("Token") is not null));
    }

    [Fact]
    public void Connect_DeviceCode_is_a_mandatory_switch_also_named_UseDeviceAuthentication()
    {
        var property = metadata.ShimType("MSCommerce.Commands.ConnectMSCommerceCommand").GetProperty("DeviceCode")!;
        var deviceCode = ParametersIn("MSCommerce.Commands.ConnectMSCommerceCommand", "DeviceCode").Single(p => p.Name == "DeviceCode");
        var alias = AttributeData.Single(property, "System.Management.Automation.AliasAttribute");

        Assert.Equal(("System.Management.Automation.SwitchParameter", true), (deviceCode.Type, deviceCode.Mandatory));
        Assert.Contains("UseDeviceAuthentication", ((ReadOnlyCollection<CustomAttributeTypedArgument>)alias.ConstructorArguments[0].Value!).Select(v => (string?)v.Value));
    }

    private List<ParameterInfo> ParametersIn(string typeName, string set) =>
        Parameters(typeName).Where(p => p.ParameterSet == set).ToList();

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
