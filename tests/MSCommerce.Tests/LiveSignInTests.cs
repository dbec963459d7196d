using System.Net.Http;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>Device code sign-in through the native core against the emulator's authority.</summary>
[Trait("Category", "Live")]
public sealed class LiveSignInTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture emulator;

    public LiveSignInTests(EmulatorFixture emulator) => this.emulator = emulator;

    [Fact]
    public void Device_code_sign_in_connects_a_client_that_then_needs_no_token()
    {
        using var client = CoreClient.Create(emulator.ServiceUri);
        var user = new DeviceLoginUser(emulator.ServiceUri, EmulatorFixture.Admin);

        var connection = client.ConnectWithDeviceCode(emulator.ServiceUri, "organizations", clientId: null, CancellationToken.None, user);

        Assert.StartsWith("To sign in, use a web browser to open the page ", user.Message);
        Assert.Equal((true, "DeviceCode", EmulatorFixture.Admin), (connection.Connected, connection.Flow, connection.Account));
        Assert.True(connection.ExpiresOn > DateTimeOffset.UtcNow);
        Assert.NotEmpty(client.GetPolicies());
    }

    [Fact]
    public void A_client_that_never_connected_says_so_and_shows_no_account()
    {
        using var client = CoreClient.Create(emulator.ServiceUri);

        var connection = client.GetConnection();

        Assert.Equal((false, null, null), (connection.Connected, connection.Flow, connection.Account));
    }

    [Fact]
    public void A_declined_device_sign_in_is_the_contracts_connection_failure()
    {
        using var client = CoreClient.Create(emulator.ServiceUri);
        var user = new DeviceLoginUser(emulator.ServiceUri, EmulatorFixture.Admin, action: "deny");

        var error = Assert.Throws<MSCommerceException>(() => client.ConnectWithDeviceCode(emulator.ServiceUri, "organizations", null, CancellationToken.None, user));

        Assert.Equal(("SignInFailed", "AuthenticationError", false), (error.Code, error.Category, error.Terminating));
        Assert.StartsWith("Unable to establish connection", error.Message);
    }

    /// <summary>What a person does with the device code message: opens the page, enters the code, answers as <c>user</c>.</summary>
    private sealed class DeviceLoginUser(string baseUri, string user, string action = "approve") : IInvocationSink
    {
        public string? Message { get; private set; }

        public void WriteLog(CoreLogLevel level, string message)
        {
            if (level != CoreLogLevel.Warning || Message != null)
            {
                return;
            }

            Message = message;
            var code = message.Split("enter the code ")[1].Split(' ')[0];
            using var http = new HttpClient();
            var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["user_code"] = code, ["user"] = user, ["action"] = action });
            http.PostAsync(baseUri + "/devicelogin", form).GetAwaiter().GetResult().EnsureSuccessStatusCode();
        }

        public void WriteProgress(CoreProgress progress)
        {
        }
    }
}
