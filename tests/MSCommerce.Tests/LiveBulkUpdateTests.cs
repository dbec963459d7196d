using System.Net.Http;
using System.Text.Json;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>
/// A 1,000-product tenant disabled in one bulk update while two products' updates fail, through
/// the shim's client and the native core, against a live emulator of its own.
/// </summary>
[Trait("Category", "Live")]
public sealed class LiveBulkUpdateTests : IClassFixture<EmulatorFixture>
{
    private const string PolicyId = "AllowSelfServicePurchase";
    private static readonly string[] Failing = ["CFQ7TTC0BULK0007", "CFQ7TTC0BULK0500"];

    private readonly EmulatorFixture emulator;

    public LiveBulkUpdateTests(EmulatorFixture emulator) => this.emulator = emulator;

    [Fact]
    public void Disabling_a_thousand_products_reports_exactly_the_two_that_fail_and_changes_every_other()
    {
        emulator.CallAdmin(HttpMethod.Post, "/tenants/" + EmulatorFixture.Tenant + "/products", """{"count": 1000}""");
        emulator.CallAdmin(HttpMethod.Put, "/faults", JsonSerializer.Serialize(new { failItems = new { ids = Failing, status = 409, method = "PUT" } }));
        emulator.CallAdmin(HttpMethod.Delete, "/requests");
        var sink = new RecordingSink();
        try
        {
            var all = emulator.Client.SelectItems(PolicyId, "Product", all: true, names: null, exclude: null, token: emulator.Token);
            var targets = all.Items.Cast<ProductPolicy>().Select(p => new PolicyTarget(PolicyId, PolicyItem.Product(p.ProductId!))).ToList();
            Assert.True(targets.Count >= 1000, $"the tenant lists {targets.Count} products");

            var outcomes = emulator.Client.UpdateProductPolicies(targets, PolicyChange.ToValue("Disabled"), throttleLimit: 16, token: emulator.Token, sink: sink);

            Assert.Equal(targets.Select(t => t.Item.Id), outcomes.Select(o => o.Id));
            var failed = outcomes.Where(o => o.Error != null).ToList();
            Assert.Equal(Failing, failed.Select(o => o.Id));
            Assert.All(failed, o =>
            {
                Assert.Equal((o.Id, "InvalidArgument", false, 409), (o.Error!.Target, o.Error.Category, o.Error.Terminating, o.Error.HttpStatus));
                Assert.StartsWith("Failed to update product policy, ErrorMessage - Response status code does not indicate success: 409 (Conflict).", o.Error.Message);
                Assert.Contains(o.Id, o.Error.Message);
            });
            Assert.All(outcomes.Where(o => o.Error == null), o => Assert.Equal("Disabled", Assert.IsType<ProductPolicy>(o.Item).PolicyValue));
        }
        finally
        {
            emulator.CallAdmin(HttpMethod.Delete, "/faults");
        }

        var now = emulator.Client.GetProductPolicies(PolicyId, token: emulator.Token).Cast<ProductPolicy>().ToList();
        Assert.Equal(Failing, now.Where(p => p.PolicyValue != "Disabled").Select(p => p.ProductId).Order());
        Assert.True(sink.Progress.Count >= 2 && sink.Progress.Last().Completed, "progress is reported and completed");
    }

    [Fact]
    public void Each_item_of_a_bulk_update_is_sent_once_when_its_failure_is_not_transient()
    {
        emulator.CallAdmin(HttpMethod.Put, "/faults", JsonSerializer.Serialize(new { failItems = new { ids = new[] { "CFQ7TTC0H9MP" }, status = 409, method = "PUT" } }));
        emulator.CallAdmin(HttpMethod.Delete, "/requests");
        try
        {
            var targets = new[] { "CFQ7TTC0H9MP", "CFQ7TTC0HD33", "CFQ7TTC0LH3L" }.Select(id => new PolicyTarget(PolicyId, PolicyItem.Product(id)));

            var outcomes = emulator.Client.UpdateProductPolicies(targets, PolicyChange.ToEnabled("False"), token: emulator.Token);

            Assert.Equal(["CFQ7TTC0H9MP"], outcomes.Where(o => o.Error != null).Select(o => o.Id));
            using var counts = JsonDocument.Parse(emulator.CallAdmin(HttpMethod.Get, "/requests"));
            var puts = counts.RootElement.GetProperty("requests").EnumerateObject().Where(p => p.Name.StartsWith("PUT ", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, puts.Count);
            Assert.All(puts, p => Assert.Equal(1, p.Value.GetInt32()));
        }
        finally
        {
            emulator.CallAdmin(HttpMethod.Delete, "/faults");
        }
    }

    [Fact]
    public void An_invalid_id_fails_only_its_own_item()
    {
        var targets = new[] { "..", "CFQ7TTC0HD33" }.Select(id => new PolicyTarget(PolicyId, PolicyItem.Product(id)));

        var outcomes = emulator.Client.UpdateProductPolicies(targets, PolicyChange.ToValue("Enabled"), token: emulator.Token);

        Assert.Equal(("..", "InvalidArgument"), (outcomes[0].Error?.Target, outcomes[0].Error?.Category));
        Assert.Equal("Enabled", Assert.IsType<ProductPolicy>(outcomes[1].Item).PolicyValue);
    }

    [Fact]
    public void A_bulk_update_without_a_connection_is_the_contracts_terminating_error()
    {
        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.UpdateProductPolicies([new PolicyTarget(PolicyId, PolicyItem.Product("CFQ7TTC0HD33"))], PolicyChange.ToValue("Enabled")));

        Assert.Equal(("NotConnected", true), (error.Code, error.Terminating));
        Assert.Equal("You must call the Connect-MSCommerce cmdlet before calling any other cmdlets", error.Message);
    }

    private sealed class RecordingSink : IInvocationSink
    {
        public List<CoreProgress> Progress { get; } = [];

        public void WriteLog(CoreLogLevel level, string message)
        {
        }

        public void WriteProgress(CoreProgress progress) => Progress.Add(progress);
    }
}
