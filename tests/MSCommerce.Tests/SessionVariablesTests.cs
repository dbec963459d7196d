using System.Collections;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>
/// What the shim passes the core of the environment (<see cref="SessionVariables"/>): every
/// MSCOMMERCE_* variable and the listed ones, read when each call is made. The list itself is
/// checked against the core's by rust-core/tests/settings.rs.
/// </summary>
public sealed class SessionVariablesTests
{
    [Fact]
    public void The_modules_own_variables_and_the_listed_ones_are_passed_and_nothing_else()
    {
        var environment = new Hashtable
        {
            ["MSCOMMERCE_SERVICE_URI"] = "http://127.0.0.1:5000",
            ["MSCOMMERCE_SOMETHING_LATER"] = "x",
            ["HTTPS_PROXY"] = "http://user:secret@proxy:3128",
            ["no_proxy"] = "localhost",
            ["HOME"] = "/home/someone",
            ["PATH"] = "/usr/bin",
            ["MSCOMMERCE_EMPTY"] = "",
            ["mscommerce_browser"] = "lower case is another name here",
        };

        var variables = SessionVariables.Capture(environment, ignoreCase: false);

        Assert.Equal(
            new[] { "HOME", "HTTPS_PROXY", "MSCOMMERCE_SERVICE_URI", "MSCOMMERCE_SOMETHING_LATER", "no_proxy" },
            variables.Keys.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void On_Windows_names_match_without_case_and_go_as_the_core_spells_them()
    {
        var environment = new Hashtable
        {
            ["Https_Proxy"] = "http://proxy:3128",
            ["LocalAppData"] = @"C:\Users\someone\AppData\Local",
            ["MsCommerce_Token_Cache"] = "file",
            ["Path"] = @"C:\Windows",
        };

        var variables = SessionVariables.Capture(environment, ignoreCase: true);

        Assert.Equal("http://proxy:3128", variables["HTTPS_PROXY"]);
        Assert.Equal(@"C:\Users\someone\AppData\Local", variables["LOCALAPPDATA"]);
        Assert.Equal("file", variables["MSCOMMERCE_TOKEN_CACHE"]);
        Assert.Equal(3, variables.Count);
    }

    [Fact]
    public void Variables_go_to_the_core_as_a_json_object()
    {
        var json = Json.Serialize(new ClientConfigWire
        {
            UserAgent = "MSCommerce/4.0.0",
            Variables = new Dictionary<string, string> { ["MSCOMMERCE_SERVICE_URI"] = "http://127.0.0.1:5000" },
            Edition = "Core",
        });

        Assert.Contains("\"variables\":{\"MSCOMMERCE_SERVICE_URI\":\"http:\\/\\/127.0.0.1:5000\"}", json);
        Assert.Contains("\"edition\":\"Core\"", json);
    }

    [Fact]
    public void The_edition_is_the_runtimes()
    {
        // The tests run on .NET, as PowerShell 7 does; Windows PowerShell 5.1 runs on .NET Framework.
        Assert.Equal("Core", HostEdition.Current);
    }
}

/// <summary>Tests that change this process's environment, which every client reads: run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>
/// A variable set with .NET after the client was made (what <c>$env:</c> does in PowerShell,
/// which on Linux and macOS native code never sees) reaches the core with the next call.
/// </summary>
[Trait("Category", "Live")]
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class LiveSessionVariablesTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture emulator;

    public LiveSessionVariablesTests(EmulatorFixture emulator) => this.emulator = emulator;

    [Fact]
    public void A_service_variable_set_after_the_client_was_made_is_honoured_by_the_next_call()
    {
        var token = emulator.Token;
        var before = Environment.GetEnvironmentVariable("MSCOMMERCE_SERVICE_URI");
        try
        {
            Environment.SetEnvironmentVariable("MSCOMMERCE_SERVICE_URI", null);
            using var client = CoreClient.Create(new ClientOptions());
            Assert.Equal(CoreDefaults.ServiceUri, client.GetConnection().ServiceUri);

            Environment.SetEnvironmentVariable("MSCOMMERCE_SERVICE_URI", emulator.ServiceUri);

            Assert.Equal(emulator.ServiceUri.TrimEnd('/'), client.GetConnection().ServiceUri);
            Assert.Contains(client.GetPolicies(token), p => p.PolicyId == "AllowSelfServicePurchase");
        }
        finally
        {
            Environment.SetEnvironmentVariable("MSCOMMERCE_SERVICE_URI", before);
        }
    }
}
