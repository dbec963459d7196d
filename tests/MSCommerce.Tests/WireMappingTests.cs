using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class WireMappingTests
{
    [Fact]
    public void A_product_item_becomes_a_product_policy_with_every_property()
    {
        var item = new WireItem { Kind = "ProductPolicy", PolicyValue = "Enabled", ProductId = "CFQ7TTC0KP0P", PolicyId = "AllowSelfServicePurchase", ProductName = "Power Automate per user" };

        var product = Assert.IsType<ProductPolicy>(WireMapping.ToProductOrScopePolicy(item));

        Assert.Equal("Enabled", product.PolicyValue);
        Assert.Equal("CFQ7TTC0KP0P", product.ProductId);
        Assert.Equal("AllowSelfServicePurchase", product.PolicyId);
        Assert.Equal("Power Automate per user", product.ProductName);
    }

    [Fact]
    public void A_scope_item_becomes_a_scope_policy_with_every_property()
    {
        var item = new WireItem { Kind = "ScopePolicy", PolicyId = "AllowSelfServicePurchase", PolicyValue = "Disabled", ScopeId = "3rdPartyOffers", ScopeValue = "Third-party offers", Scope = "OfferType" };

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
        var policy = WireMapping.ToPolicy(new WireItem { Kind = "Policy", PolicyId = "AllowSelfServicePurchase", Description = "d", DefaultValue = "Enabled" });

        Assert.Equal(("AllowSelfServicePurchase", "d", "Enabled"), (policy.PolicyId, policy.Description, policy.DefaultValue));
    }

    [Fact]
    public void An_item_of_an_unexpected_kind_is_an_invalid_response()
    {
        var error = Assert.Throws<MSCommerceException>(() => WireMapping.ToPolicy(new WireItem { Kind = "ProductPolicy" }));

        Assert.Equal("InvalidResponse", error.Code);
        Assert.Contains("ProductPolicy", error.Message);
    }

    [Fact]
    public void A_product_list_item_of_an_unknown_kind_is_an_invalid_response()
    {
        var error = Assert.Throws<MSCommerceException>(() => WireMapping.ToProductOrScopePolicy(new WireItem { Kind = "Policy" }));

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
