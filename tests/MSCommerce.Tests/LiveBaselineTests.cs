using System.Text.Json;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>
/// Selection by name and -All/-Exclude, baselines (export, drift, the import plan), and tab
/// completion, through the shim's client and the native core against a live emulator.
/// </summary>
[Trait("Category", "Live")]
public sealed class LiveBaselineTests : IClassFixture<EmulatorFixture>, IDisposable
{
    private const string PolicyId = "AllowSelfServicePurchase";
    private const string PowerBiPro = "CFQ7TTC0H9MP";
    private const string VisioPlan1 = "CFQ7TTC0HD33";

    private readonly EmulatorFixture emulator;
    private readonly string folder = Directory.CreateTempSubdirectory("mscommerce-baseline-").FullName;

    public LiveBaselineTests(EmulatorFixture emulator) => this.emulator = emulator;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string FilePath(string name) => Path.Combine(folder, name);

    [Fact]
    public void Product_names_with_wildcards_pick_the_matching_products()
    {
        var selection = emulator.Client.SelectItems(PolicyId, "Product", all: false, names: ["power bi*", "Visio Plan 1"], exclude: null, token: emulator.Token);

        var names = selection.Items.Cast<ProductPolicy>().Select(p => p.ProductName!).ToList();
        Assert.Contains("Visio Plan 1", names);
        Assert.Contains(names, n => n.StartsWith("Power BI", StringComparison.Ordinal));
        Assert.All(names, n => Assert.True(n.StartsWith("Power BI", StringComparison.OrdinalIgnoreCase) || n == "Visio Plan 1", n));
        Assert.Empty(selection.Errors);
    }

    [Fact]
    public void All_offer_types_are_picked_with_the_offer_type_scope()
    {
        var picked = emulator.Client.SelectItems(PolicyId, "OfferType", all: true, names: null, exclude: ["DYNAMICS*"], token: emulator.Token).Items;

        var ids = picked.Cast<ScopePolicy>().Select(s => s.ScopeId).ToList();
        Assert.Contains("SaaS", ids);
        Assert.DoesNotContain(ids, id => id!.StartsWith("DYNAMICS", StringComparison.Ordinal));
    }

    [Fact]
    public void An_exported_baseline_is_versioned_json_of_every_product_and_offer_type()
    {
        var path = FilePath("baseline.json");

        var written = emulator.Client.ExportBaseline(PolicyId, path, token: emulator.Token);

        using var file = JsonDocument.Parse(File.ReadAllText(path));
        var root = file.RootElement;
        Assert.Equal(("MSCommerce.PolicyBaseline", 1, PolicyId), (root.GetProperty("format").GetString(), root.GetProperty("version").GetInt32(), root.GetProperty("policyId").GetString()));
        Assert.Equal(written.Products, root.GetProperty("products").GetArrayLength());
        Assert.Equal(written.OfferTypes, root.GetProperty("offerTypes").GetArrayLength());
        Assert.Contains(root.GetProperty("products").EnumerateArray(), p => p.GetProperty("productId").GetString() == PowerBiPro);
        Assert.Equal(emulator.Client.GetProductPolicies(PolicyId, token: emulator.Token).Count, written.Products);
    }

    [Fact]
    public void Drift_names_each_changed_item_with_both_values_and_each_new_product()
    {
        var path = FilePath("drift.json");
        emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("Enabled"), emulator.Token);
        emulator.Client.ExportBaseline(PolicyId, path, token: emulator.Token);
        emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("Disabled"), emulator.Token);
        emulator.CallAdmin(HttpMethod.Post, "/tenants/" + EmulatorFixture.Tenant + "/products", """{"products": [{"productId": "CFQ7TTC0NEW1", "productName": "New since the baseline"}]}""");

        var drift = emulator.Client.TestBaseline(path, emulator.Token);

        var changed = Assert.Single(drift, d => d.Change == "Changed");
        Assert.Equal(("Product", PowerBiPro, "Enabled", "Disabled"), (changed.Scope, changed.Id, changed.BaselineValue, changed.CurrentValue));
        var added = Assert.Single(drift, d => d.Change == "Added");
        Assert.Equal(("CFQ7TTC0NEW1", "New since the baseline", (string?)null), (added.Id, added.Name, added.BaselineValue));
        emulator.Client.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("Enabled"), emulator.Token);
    }

    [Fact]
    public void No_clobber_refuses_to_replace_a_file_and_keeps_it()
    {
        var path = FilePath("kept.json");
        File.WriteAllText(path, "mine");

        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.ExportBaseline(PolicyId, path, noClobber: true, token: emulator.Token));

        Assert.Equal(("FileExists", "ResourceExists", path), (error.Code, error.Category, error.Target));
        Assert.Equal("mine", File.ReadAllText(path));
    }

    [Fact]
    public void A_missing_baseline_file_is_object_not_found()
    {
        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.TestBaseline(FilePath("missing.json"), emulator.Token));

        Assert.Equal(("FileNotFound", "ObjectNotFound"), (error.Code, error.Category));
    }

    [Fact]
    public void Product_names_offer_types_and_policies_complete_by_prefix()
    {
        Assert.Contains(emulator.Client.Complete("productName", PolicyId, "'Visio", emulator.Token), c => c.Value == "Visio Plan 1");
        Assert.Equal(["SaaS"], emulator.Client.Complete("offerType", PolicyId, "sa", emulator.Token).Select(c => c.Value));
        Assert.Equal([PolicyId], emulator.Client.Complete("policyId", null, "Allow", emulator.Token).Select(c => c.Value));
    }

    [Fact]
    public void Completion_without_a_connection_offers_only_the_documented_policy_and_no_products()
    {
        Assert.Equal([PolicyId], emulator.Client.Complete("policyId", null, "").Select(c => c.Value));
        Assert.Empty(emulator.Client.Complete("productId", PolicyId, ""));
    }
}
