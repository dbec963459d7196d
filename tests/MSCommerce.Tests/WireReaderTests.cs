using System.Collections.Generic;
using System.Linq;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class WireReaderTests
{
    private const int Ok = 0;

    private static bool Products(string json, out List<object> items, int status = Ok) =>
        WireReader.TryReadItems(status, json, item => item is ProductPolicy || item is ScopePolicy, out items);

    [Fact]
    public void A_product_list_is_read_into_product_policies_in_order_with_every_property()
    {
        const string json = """{"ok":true,"data":[{"kind":"ProductPolicy","policyValue":"Enabled","productId":"CFQ7TTC0KP0P","policyId":"AllowSelfServicePurchase","productName":"Power Automate per user"},{"kind":"ProductPolicy","policyValue":"Disabled","productId":"CFQ7TTC0H9MP","policyId":"AllowSelfServicePurchase","productName":"Power BI Pro"}],"error":null}""";

        Assert.True(Products(json, out var items));

        var products = items.Cast<ProductPolicy>().ToArray();
        Assert.Equal(2, products.Length);
        Assert.Equal(("Enabled", "CFQ7TTC0KP0P", "AllowSelfServicePurchase", "Power Automate per user"), (products[0].PolicyValue, products[0].ProductId, products[0].PolicyId, products[0].ProductName));
        Assert.Equal("CFQ7TTC0H9MP", products[1].ProductId);
    }

    [Fact]
    public void Escapes_whitespace_nulls_and_unknown_members_read_as_the_general_path_reads_them()
    {
        const string json = " {\"ok\" : true, \"data\" : [ {\"kind\":\"ProductPolicy\", \"future\":{\"a\":[1,-2.5e3,true,null,\"x\"]}, \"productName\":\"Contoso \\\"Pro\\\" \\u00e9\\ud83d\\ude00 a\\\\b\\/c\\n\", \"productId\":null} ], \"error\":null } ";

        Assert.True(Products(json, out var items));

        var product = Assert.IsType<ProductPolicy>(Assert.Single(items));
        Assert.Equal("Contoso \"Pro\" \u00e9\U0001F600 a\\b/c\n", product.ProductName);
        Assert.Null(product.ProductId);
        var general = (ProductPolicy)WireMapping.ToProductPolicies(CoreClient.UnwrapData(Ok, json))[0];
        Assert.Equal(general.ProductName, product.ProductName);
    }

    [Fact]
    public void Offer_types_are_read_into_scope_policies()
    {
        const string json = """{"ok":true,"data":[{"kind":"ScopePolicy","policyId":"AllowSelfServicePurchase","policyValue":"Disabled","scopeId":"3rdPartyOffers","scopeValue":"Third-party offers","scope":"OfferType"}],"error":null}""";

        Assert.True(Products(json, out var items));

        var scope = Assert.IsType<ScopePolicy>(Assert.Single(items));
        Assert.Equal(("3rdPartyOffers", "Third-party offers", "OfferType"), (scope.ScopeId, scope.ScopeValue, scope.Scope));
    }

    [Theory]
    [InlineData("""{"ok":false,"data":null,"error":{"code":"NotFound","category":"ObjectNotFound","terminating":false,"message":"m"}}""")]
    [InlineData("""{"ok":true,"data":{"items":[]},"error":null}""")]
    [InlineData("""{"ok":true,"data":[{"kind":"Policy","policyId":"AllowSelfServicePurchase"}],"error":null}""")]
    [InlineData("""{"ok":true,"data":[{"kind":"NewKind"}],"error":null}""")]
    [InlineData("""{"ok":true,"data":[{"productId":"X","kind":"ProductPolicy"}],"error":null}""")]
    [InlineData("""{"ok":true,"data":[{"kind":"ProductPolicy","productId":"X"}""")]
    [InlineData("""{"ok":true,"data":[{"kind":"ProductPolicy","productId":"X\q"}],"error":null}""")]
    [InlineData("""{"ok":true,"data":[],"error":null} trailing""")]
    [InlineData("""{"ok":true,"data":null,"error":null}""")]
    [InlineData("")]
    public void Anything_but_a_successful_list_of_the_expected_kinds_is_left_to_the_general_path(string json)
    {
        Assert.False(Products(json, out _));
    }

    [Fact]
    public void A_failed_status_is_left_to_the_general_path_even_with_a_list()
    {
        Assert.False(Products("""{"ok":true,"data":[],"error":null}""", out _, status: 1));
    }

    [Fact]
    public void An_empty_list_is_read()
    {
        Assert.True(Products("""{"ok":true,"data":[],"error":null}""", out var items));
        Assert.Empty(items);
    }
}
