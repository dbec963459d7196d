using System.Diagnostics;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>
/// What ForEach-Object -Parallel and repeated Import-Module/Remove-Module do to the module,
/// at the level this machine can run: many clients (one per runspace in PowerShell) on many
/// threads at once against two tenants, and clients created and freed over and over. The
/// PowerShell-level versions are in tests/powershell and run where PowerShell is installed.
/// </summary>
[Trait("Category", "Live")]
public sealed class LiveConcurrencyTests : IClassFixture<EmulatorFixture>
{
    private const string PolicyId = "AllowSelfServicePurchase";
    private const string PowerBiPro = "CFQ7TTC0H9MP";

    private readonly EmulatorFixture emulator;

    public LiveConcurrencyTests(EmulatorFixture emulator) => this.emulator = emulator;

    [Fact]
    public void Eight_clients_on_two_tenants_at_once_each_see_only_their_own_tenant()
    {
        var tokens = new Dictionary<string, string>
        {
            ["contoso"] = emulator.TokenFor("admin@contoso.onmicrosoft.com", "contoso.onmicrosoft.com"),
            ["fabrikam"] = emulator.TokenFor("admin@fabrikam.onmicrosoft.com", "fabrikam.onmicrosoft.com"),
        };
        // The same product holds a different value in each tenant, so a read through the wrong
        // tenant's credential shows.
        using (var setup = CoreClient.Create(emulator.ServiceUri))
        {
            setup.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("Disabled"), tokens["contoso"]);
            setup.UpdateProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro), PolicyChange.ToValue("Enabled"), tokens["fabrikam"]);
        }

        var expected = new Dictionary<string, string> { ["contoso"] = "Disabled", ["fabrikam"] = "Enabled" };
        var tenants = Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? "contoso" : "fabrikam").ToArray();
        var seen = tenants.Select(_ => new List<string>()).ToArray();
        var failures = new List<Exception>();
        // Real threads, as runspaces of ForEach-Object -Parallel have, each with its own client.
        var threads = tenants.Select((tenant, index) => new Thread(() =>
        {
            try
            {
                using var client = CoreClient.Create(emulator.ServiceUri, tokens[tenant]);
                for (var round = 0; round < 25; round++)
                {
                    var connection = client.GetConnection();
                    var product = (ProductPolicy)client.GetProductPolicy(PolicyId, PolicyItem.Product(PowerBiPro));
                    seen[index].Add(connection.Account + "|" + product.PolicyValue);
                }
            }
            catch (Exception e)
            {
                lock (failures)
                {
                    failures.Add(e);
                }
            }
        })).ToArray();

        foreach (var thread in threads)
        {
            thread.Start();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        Assert.All(threads, t => Assert.True(t.Join(deadline - DateTime.UtcNow > TimeSpan.Zero ? deadline - DateTime.UtcNow : TimeSpan.Zero), "a client did not finish within 2 minutes: a deadlock"));
        Assert.Empty(failures);
        for (var i = 0; i < tenants.Length; i++)
        {
            Assert.Equal(25, seen[i].Count);
            Assert.All(seen[i], s => Assert.Equal("admin@" + tenants[i] + ".onmicrosoft.com|" + expected[tenants[i]], s));
        }
    }

    [Fact]
    public void Creating_using_and_freeing_clients_over_and_over_adds_no_threads()
    {
        // Warm up: the native library, its runtime and its connection pool start once per process.
        using (var first = CoreClient.Create(emulator.ServiceUri, emulator.Token))
        {
            first.GetPolicies();
        }

        var before = ThreadCount();
        for (var i = 0; i < 100; i++)
        {
            using var client = CoreClient.Create(emulator.ServiceUri, emulator.Token);
            client.GetPolicies();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var after = ThreadCount();
        // Each request runs on a short-lived worker thread that has ended by now; a few threads of
        // the test host itself may come and go.
        Assert.True(after <= before + 4, $"threads before {before}, after 100 clients {after}");
    }

    private static int ThreadCount()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.Threads.Count;
    }
}
