using System.Xml.Linq;
using MSCommerce.HelpGen;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>The MAML that Get-Help reads, generated from the shim as the build does.</summary>
public sealed class HelpTests
{
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static readonly Lazy<XDocument> Help = new(() =>
    {
        var shim = typeof(CoreClient).Assembly.Location;
        return HelpGenerator.Generate(shim, Path.ChangeExtension(shim, ".xml"));
    });

    private static XElement Cmdlet(string name) =>
        Help.Value.Descendants(Command + "command").Single(c => (string?)c.Element(Command + "details")?.Element(Command + "name") == name);

    [Fact]
    public void Help_covers_every_cmdlet_of_the_module()
    {
        var names = Help.Value.Descendants(Command + "details").Select(d => (string)d.Element(Command + "name")!);

        Assert.Equal(
            ["Connect-MSCommerce", "Disconnect-MSCommerce", "Export-MSCommercePolicy", "Get-MSCommerceConnection", "Get-MSCommercePolicies", "Get-MSCommercePolicy", "Get-MSCommerceProductPolicies", "Get-MSCommerceProductPolicy", "Import-MSCommercePolicy", "Test-MSCommercePolicy", "Update-MSCommerceProductPolicy"],
            names);
    }

    [Theory]
    [InlineData("Connect-MSCommerce")]
    [InlineData("Disconnect-MSCommerce")]
    [InlineData("Get-MSCommerceConnection")]
    [InlineData("Get-MSCommercePolicies")]
    [InlineData("Get-MSCommercePolicy")]
    [InlineData("Get-MSCommerceProductPolicies")]
    [InlineData("Get-MSCommerceProductPolicy")]
    [InlineData("Update-MSCommerceProductPolicy")]
    [InlineData("Export-MSCommercePolicy")]
    [InlineData("Test-MSCommercePolicy")]
    [InlineData("Import-MSCommercePolicy")]
    public void Every_cmdlet_has_a_synopsis_a_description_and_an_example(string name)
    {
        var cmdlet = Cmdlet(name);

        Assert.False(string.IsNullOrWhiteSpace((string?)cmdlet.Element(Command + "details")!.Element(Maml + "description")));
        Assert.False(string.IsNullOrWhiteSpace((string?)cmdlet.Element(Maml + "description")));
        Assert.NotEmpty(cmdlet.Descendants(Command + "example"));
        Assert.All(cmdlet.Element(Command + "parameters")!.Elements(Command + "parameter"), p => Assert.False(string.IsNullOrWhiteSpace((string?)p.Element(Maml + "description"))));
    }

    [Fact]
    public void Update_shows_one_syntax_per_parameter_set()
    {
        // The original's four, then by name and -All, each with -Value or -Enabled.
        Assert.Equal(8, Cmdlet("Update-MSCommerceProductPolicy").Descendants(Command + "syntaxItem").Count());
    }

    [Fact]
    public void Update_help_carries_the_documentations_example_script()
    {
        var code = Cmdlet("Update-MSCommerceProductPolicy").Descendants(Dev + "code").Select(c => (string)c);

        Assert.Contains(code, c => c.Contains("where {$_.ProductName -match 'Power Automate per user'}") && c.Contains("-ProductId $product.ProductID -Value \"Disabled\""));
    }

    [Fact]
    public void Value_lists_its_three_valid_values()
    {
        var value = Cmdlet("Update-MSCommerceProductPolicy").Element(Command + "parameters")!.Elements(Command + "parameter").Single(p => (string?)p.Element(Maml + "name") == "Value");

        Assert.Equal(["Enabled", "Disabled", "OnlyTrialsWithoutPaymentMethod"], value.Element(Command + "parameterValueGroup")!.Elements().Select(e => (string)e));
    }
}
