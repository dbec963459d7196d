using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>Reads of one item and updates through the native core, against a live emulator, per role.</summary>
[Trait("Category", "Live")]
public sealed class LiveUpdateTests : IClassFixture<EmulatorFixture>
{
    private const string PolicyId = "AllowSelfServicePurchase";
    private const string PowerBiPro = "CFQ7TTC0H9MP";          // no trial without a payment method
    private const string VisioPlan1 = "CFQ7TTC0HD33";          // offers a trial without a payment method
    private const string OldPowerAutomate = "CFQ7TTC0KP0N";    // replaced by CFQ7TTC0LH3L

    private readonly EmulatorFixture emulator;

    public LiveUpdateTests(EmulatorFixture emulator) => this.emulator = emulator;

    [Fact]
    public void Update_with_a_value_changes_the_product_and_returns_it()
    {
        var updated = Assert.IsType<ProductPolicy>(emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("Disabled"), emulator.Token));

        Assert.Equal(("Disabled", PowerBiPro), (updated.PolicyValue, updated.ProductId));
        var read = Assert.IsType<ProductPolicy>(emulator.Client.GetProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), emulator.Token));
        Assert.Equal("Disabled", read.PolicyValue);
    }

    [Fact]
    public void Enabled_false_then_true_toggles_an_offer_type()
    {
        var off = Assert.IsType<ScopePolicy>(emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.OfferTypeOf("SaaS"), PolicyChange.ToEnabled("False"), emulator.Token));
        var on = Assert.IsType<ScopePolicy>(emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.OfferTypeOf("SaaS"), PolicyChange.ToEnabled("true"), emulator.Token));

        Assert.Equal(("Disabled", "Enabled"), (off.PolicyValue, on.PolicyValue));
    }

    [Fact]
    public void Only_trials_without_payment_method_is_accepted_for_a_product_that_offers_them()
    {
        var updated = Assert.IsType<ProductPolicy>(emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(VisioPlan1), PolicyChange.ToValue("OnlyTrialsWithoutPaymentMethod"), emulator.Token));

        Assert.Equal("OnlyTrialsWithoutPaymentMethod", updated.PolicyValue);
    }

    [Fact]
    public void An_old_product_id_updates_its_replacement()
    {
        var updated = Assert.IsType<ProductPolicy>(emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(OldPowerAutomate), PolicyChange.ToValue("Disabled"), emulator.Token));

        Assert.Equal("CFQ7TTC0LH3L", updated.ProductId);
    }

    [Fact]
    public void Only_trials_without_payment_method_for_another_product_is_the_contracts_update_failure()
    {
        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("OnlyTrialsWithoutPaymentMethod"), emulator.Token));

        Assert.Equal(("BadRequest", "InvalidArgument", false, PowerBiPro, 400), (error.Code, error.Category, error.Terminating, error.Target, error.HttpStatus));
        // These tests run on .NET, as PowerShell 7 does: its web cmdlets' wording.
        Assert.StartsWith("Failed to update product policy, ErrorMessage - Response status code does not indicate success: 400 (Bad Request). ErrorDetails - {", error.Message);
        Assert.EndsWith("ErrorDetails - " + error.Details, error.Message);
    }

    [Fact]
    public void Windows_PowerShell_words_the_same_failure_as_its_web_cmdlets_do()
    {
        using var desktop = CoreClient.Create(new ClientOptions { ServiceUri = emulator.ServiceUri, Edition = "Desktop" });

        var error = Assert.Throws<MSCommerceException>(() => desktop.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("OnlyTrialsWithoutPaymentMethod"), emulator.Token));

        Assert.StartsWith("Failed to update product policy, ErrorMessage - The remote server returned an error: (400) Bad Request. ErrorDetails - {", error.Message);
    }

    [Fact]
    public void A_global_reader_may_read_but_not_change()
    {
        Assert.NotEmpty(emulator.Client.GetPolicies(emulator.TokenFor(EmulatorFixture.Reader)));

        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("Enabled"), emulator.TokenFor(EmulatorFixture.Reader)));

        Assert.Equal(("Forbidden", "PermissionDenied", false), (error.Code, error.Category, error.Terminating));
    }

    [Fact]
    public void A_user_without_an_admin_role_cannot_read()
    {
        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.GetPolicies(emulator.TokenFor(EmulatorFixture.NoRole)));

        Assert.Equal("Forbidden", error.Code);
    }

    [Fact]
    public void A_token_the_service_refuses_gives_the_contracts_expired_credentials_message()
    {
        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.GetPolicies("not-a-token"));

        Assert.Equal(("AuthExpired", "AuthenticationError"), (error.Code, error.Category));
        Assert.Equal("Your credentials have expired. Please, call Connect-MSCommerce again to regain access to MSCommerce Module.", error.Message);
    }

    [Fact]
    public void Enabled_other_than_true_or_false_is_refused_with_the_contracts_message()
    {
        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToEnabled("yes"), emulator.Token));

        Assert.Equal(("InvalidArgument", "Value of $Enabled must be one of the following: $True, $true, $False, $false"), (error.Code, error.Message));
    }

    [Fact]
    public void A_connected_client_needs_no_token_per_call()
    {
        using var connected = CoreClient.Create(emulator.ServiceUri, emulator.Token);

        var item = Assert.IsType<ScopePolicy>(connected.GetProductPolicy(PolicyId, PolicyItem.OfferTypeOf("powerbivisuals")));

        Assert.Equal("POWERBIVISUALS", item.ScopeId);
    }
}
