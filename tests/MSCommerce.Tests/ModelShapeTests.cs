using System.Reflection;
using System.Xml.Linq;
using Xunit;

namespace MSCommerce.Tests;

public sealed class ModelShapeTests : IClassFixture<ShimMetadata>
{
    public static TheoryData<string, string[]> Shapes => new()
    {
        { "MSCommerce.Policy", ["PolicyId", "Description", "DefaultValue"] },
        // The order the original prints on Windows PowerShell 5.1; scripts split table rows on it.
        { "MSCommerce.ProductPolicy", ["PolicyValue", "ProductId", "PolicyId", "ProductName"] },
        { "MSCommerce.ScopePolicy", ["PolicyId", "PolicyValue", "ScopeId", "ScopeValue", "Scope"] },
        { "MSCommerce.PolicyDrift", ["PolicyId", "Scope", "Id", "Name", "Change", "BaselineValue", "CurrentValue"] },
    };

    private readonly ShimMetadata metadata;

    public ModelShapeTests(ShimMetadata metadata) => this.metadata = metadata;

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Output_objects_declare_the_contracts_properties_in_order(string typeName, string[] properties)
    {
        var type = metadata.ShimType(typeName);

        Assert.Equal(properties, type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Output_objects_are_plain_string_property_bags(string typeName, string[] properties)
    {
        var type = metadata.ShimType(typeName);

        Assert.True(type.IsPublic && type.IsClass, typeName);
        Assert.Equal("System.Object", type.BaseType?.FullName);
        Assert.All(properties, name =>
        {
            var property = type.GetProperty(name)!;
            Assert.Equal("System.String", property.PropertyType.FullName);
            Assert.True(property.CanRead && property.CanWrite, name);
        });
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_table_view_shows_the_properties_in_declaration_order(string typeName, string[] properties)
    {
        var format = XDocument.Load(Path.Combine(Path.GetDirectoryName(typeof(Policy).Assembly.Location)!, "MSCommerce.Format.ps1xml"));

        var view = format.Descendants("View").Single(v => v.Element("ViewSelectedBy")?.Element("TypeName")?.Value == typeName);

        var table = view.Element("TableControl")!;
        Assert.Equal(properties, table.Descendants("TableColumnItem").Select(i => i.Element("PropertyName")?.Value));
        Assert.Equal(properties, table.Descendants("TableColumnHeader").Select(h => h.Element("Label")?.Value));
    }

    [Fact]
    public void The_format_file_has_one_view_per_output_type_and_no_other()
    {
        var format = XDocument.Load(Path.Combine(Path.GetDirectoryName(typeof(Policy).Assembly.Location)!, "MSCommerce.Format.ps1xml"));

        var selected = format.Descendants("View").Select(v => v.Element("ViewSelectedBy")?.Element("TypeName")?.Value).Order();

        Assert.Equal(Shapes.Select(row => (string)row[0]).Order(), selected);
    }
}
