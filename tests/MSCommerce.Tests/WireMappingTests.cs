using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class WireMappingTests
{
    [Fact]
    public void A_product_item_becomes_a_product_policy_with_every_property()
    {
        var item = Json.Parse("""{"kind":"ProductPolicy","policyValue":"Enabled","productId":"CFQ7TTC0KP0P","policyId":"AllowSelfServicePurchase","productName":"Power Automate per user"}""");

        var product = Assert.IsType<ProductPolicy>(WireMapping.ToProductOrScopePolicy(item));

        Assert.Equal("Enabled", product.PolicyValue);
        Assert.Equal("CFQ7TTC0KP0P", product.ProductId);
        Assert.Equal("AllowSelfServicePurchase", product.PolicyId);
        Assert.Equal("Power Automate per user", product.ProductName);
    }

    [Fact]
    public void A_scope_item_becomes_a_scope_policy_with_every_property()
    {
        var item = Json.Parse("""{"kind":"ScopePolicy","policyId":"AllowSelfServicePurchase","policyValue":"Disabled","scopeId":"3rdPartyOffers","scopeValue":"Third-party offers","scope":"OfferType"}""");

        var scope = Assert.IsType<ScopePolicy>(WireMapping.ToProductOrScopePolicy(item));

        Assert.Equal("AllowSelfServicePurchase", scope.PolicyId);
        Assert.Equal("Disabled", scope.PolicyValue);
        Assert.Equal("3rdPartyOffers", scope.ScopeId);
        Assert.Equal("Third-party offers", scope.ScopeValue);
        Assert.Equal("OfferType", scope.Scope);
    }

    [Fact]
    public void A_policy_item_becomes_a_policy()
    {
        var policy = WireMapping.ToPolicy(Json.Parse("""{"kind":"Policy","policyId":"AllowSelfServicePurchase","description":"d","defaultValue":"Enabled"}"""));

        Assert.Equal(("AllowSelfServicePurchase", "d", "Enabled"), (policy.PolicyId, policy.Description, policy.DefaultValue));
    }

    [Fact]
    public void An_item_of_an_unexpected_kind_is_an_invalid_response()
    {
        var error = Assert.Throws<MSCommerceException>(() => WireMapping.ToPolicy(Json.Parse("""{"kind":"ProductPolicy"}""")));

        Assert.Equal("InvalidResponse", error.Code);
        Assert.Contains("ProductPolicy", error.Message);
    }

    [Fact]
    public void A_product_list_item_of_an_unknown_kind_is_an_invalid_response()
    {
        var error = Assert.Throws<MSCommerceException>(() => WireMapping.ToProductOrScopePolicy(Json.Parse("""{"kind":"Policy"}""")));

        Assert.Equal("InvalidResponse", error.Code);
    }

    [Fact]
    public void Output_objects_print_as_their_id()
    {
        Assert.Equal("AllowSelfServicePurchase", new Policy { PolicyId = "AllowSelfServicePurchase" }.ToString());
        Assert.Equal("CFQ7TTC0KP0P", new ProductPolicy { ProductId = "CFQ7TTC0KP0P" }.ToString());
        Assert.Equal("3rdPartyOffers", new ScopePolicy { ScopeId = "3rdPartyOffers" }.ToString());
    }
}
