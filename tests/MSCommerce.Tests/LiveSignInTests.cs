using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>
/// Sign-in through the native core against the emulator's authority: device code, the browser
/// flow (the test answers the sign-in page over HTTP as a browser would; the Rust suite does the
/// same in headless Chromium), the token cache and Disconnect.
/// </summary>
[Trait("Category", "Live")]
public sealed class LiveSignInTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture emulator;

    public LiveSignInTests(EmulatorFixture emulator) => this.emulator = emulator;

    [Fact]
    public void Device_code_sign_in_connects_a_client_that_then_needs_no_token()
    {
        using var client = NewClient();
        var user = new DeviceLoginUser(emulator.ServiceUri, EmulatorFixture.Admin);

        var connection = client.Connect(DeviceCode("Process"), CancellationToken.None, user);

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
        using var client = NewClient();
        var user = new DeviceLoginUser(emulator.ServiceUri, EmulatorFixture.Admin, action: "deny");

        var error = Assert.Throws<MSCommerceException>(() => client.Connect(DeviceCode("Process"), CancellationToken.None, user));

        Assert.Equal(("SignInFailed", "AuthenticationError", false), (error.Code, error.Category, error.Terminating));
        Assert.StartsWith("Unable to establish connection", error.Message);
    }

    [Fact]
    public void Browser_sign_in_connects_and_says_so_on_the_page_the_browser_comes_back_to()
    {
        using var client = NewClient();
        var user = new BrowserUser(EmulatorFixture.Admin);

        var connection = client.Connect(Browser("Process"), CancellationToken.None, user);

        Assert.Equal((true, "Browser", EmulatorFixture.Admin, "Process"), (connection.Connected, connection.Flow, connection.Account, connection.ContextScope));
        Assert.Contains("You are signed in", user.ResultPage);
        Assert.NotEmpty(client.GetPolicies());
    }

    [Fact]
    public void A_kept_sign_in_reconnects_a_new_client_silently_until_it_is_forgotten()
    {
        using (var first = NewClient())
        {
            first.Connect(Browser("CurrentUser", EmulatorFixture.Reader), CancellationToken.None, new BrowserUser(EmulatorFixture.Reader));
        }

        using var second = NewClient();
        var nobody = new BrowserUser(user: null);
        var connection = second.Connect(Browser("CurrentUser", EmulatorFixture.Reader), CancellationToken.None, nobody);
        Assert.Equal(("TokenCache", EmulatorFixture.Reader, "CurrentUser"), (connection.Flow, connection.Account, connection.ContextScope));
        Assert.Null(nobody.ResultPage);
        Assert.NotNull(connection.TokenCache);

        Assert.True(second.Disconnect(forget: true));
        Assert.False(second.GetConnection().Connected);
        var error = Assert.Throws<MSCommerceException>(() => second.GetPolicies());
        Assert.Equal("NotConnected", error.Code);
        Assert.False(second.Disconnect(forget: true));
    }

    [Fact]
    public void An_unknown_environment_is_refused_with_the_known_ones_named()
    {
        var error = Assert.Throws<MSCommerceException>(() => CoreClient.Create(new ClientOptions { Environment = "Mars" }));

        Assert.Equal(("InvalidArgument", "InvalidArgument"), (error.Code, error.Category));
        Assert.Contains("Public", error.Message);
    }

    private CoreClient NewClient() =>
        CoreClient.Create(new ClientOptions { ServiceUri = emulator.ServiceUri, AuthorityUri = emulator.ServiceUri });

    private static SignInOptions DeviceCode(string scope) =>
        new() { Flow = SignInFlow.DeviceCode, TenantId = "organizations", ContextScope = scope };

    private static SignInOptions Browser(string scope, string? loginHint = null) =>
        new() { Flow = SignInFlow.Browser, ContextScope = scope, LoginHint = loginHint, TimeoutSeconds = 30 };

    /// <summary>
    /// What a person does in the browser the sign-in opens: reads the page's address from the
    /// core's log (the test run's MSCOMMERCE_BROWSER opens nothing), picks <c>user</c> and
    /// presses Sign in; the browser then follows the authority's redirect to the loopback
    /// listener and shows its page. With a null user, nobody is there.
    /// </summary>
    private sealed class BrowserUser(string? user) : IInvocationSink
    {
        private static readonly Regex PageAddress = new(@"(http\S+/oauth2/v2\.0/authorize\?\S+)");
        private static readonly Regex Hidden = new("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">");

        public string? ResultPage { get; private set; }

        public void WriteLog(CoreLogLevel level, string message)
        {
            var match = PageAddress.Match(message);
            if (user == null || ResultPage != null || !match.Success)
            {
                return;
            }

            var page = match.Groups[1].Value.TrimEnd('.', ')');
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
            var html = http.GetStringAsync(page).GetAwaiter().GetResult();
            var form = Hidden.Matches(html).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
            form["user"] = user;
            form["action"] = "approve";
            var action = new Uri(new Uri(page), Regex.Match(html, "<form method=\"post\" action=\"([^\"]+)\"").Groups[1].Value);
            var answer = http.PostAsync(action, new FormUrlEncodedContent(form)).GetAwaiter().GetResult();
            Assert.Equal(HttpStatusCode.Found, answer.StatusCode);
            ResultPage = http.GetStringAsync(answer.Headers.Location!).GetAwaiter().GetResult();
        }

        public void WriteProgress(CoreProgress progress)
        {
        }
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
