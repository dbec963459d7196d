using System.Text.Json;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class EnvelopeTests
{
    private const string NotFoundEnvelope = """
        { "ok": false, "data": null, "error": {
            "code": "NotFound", "category": "ObjectNotFound", "terminating": false,
            "message": "Failed to retrieve policy with PolicyId 'X', ErrorMessage - Not Found ErrorDetails - {\"errorCode\":\"Unknown\"}",
            "target": "X", "correlationId": "0f8fad5b-d9cb-469f-a165-70867728950e", "httpStatus": 404,
            "details": "{\"errorCode\":\"Unknown\"}" } }
        """;

    [Fact]
    public void An_error_envelope_becomes_an_exception_carrying_every_field()
    {
        var error = Assert.Throws<MSCommerceException>(() => CoreClient.UnwrapData(NativeMethods.Status.Failed, NotFoundEnvelope));

        Assert.Equal("NotFound", error.Code);
        Assert.Equal("ObjectNotFound", error.Category);
        Assert.False(error.Terminating);
        Assert.Equal("Failed to retrieve policy with PolicyId 'X', ErrorMessage - Not Found ErrorDetails - {\"errorCode\":\"Unknown\"}", error.Message);
        Assert.Equal("X", error.Target);
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", error.CorrelationId);
        Assert.Equal(404, error.HttpStatus);
        Assert.Equal("{\"errorCode\":\"Unknown\"}", error.Details);
    }

    [Theory]
    [InlineData("{\"errorCode\":\"Unknown\"}")]
    [InlineData("  {\n  \"errorCode\": \"Unknown\",\r\n  \"reason\": \"caf\u00e9 \\\" <b>&amp;</b>\"\r\n}\n")]
    [InlineData("   ")]
    [InlineData("\r\n")]
    [InlineData("line one\r\nline two\ttabbed \u0001 \u2028 end")]
    public void The_response_body_reaches_the_exception_exactly_as_the_core_sent_it(string body)
    {
        var message = "Failed to retrieve policies, ErrorMessage - Response status code does not indicate success: 400 (Bad Request). ErrorDetails - " + body;
        var envelope = JsonSerializer.Serialize(new
        {
            ok = false,
            data = (object?)null,
            error = new { code = "BadRequest", category = "InvalidArgument", terminating = false, message, target = (string?)null, correlationId = "c", httpStatus = 400, details = body },
        });

        var error = Assert.Throws<MSCommerceException>(() => CoreClient.UnwrapData(NativeMethods.Status.Failed, envelope));

        Assert.Equal(body, error.Details);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_success_envelope_yields_its_data()
    {
        const string json = """{"ok":true,"data":[{"kind":"Policy","policyId":"AllowSelfServicePurchase","description":"d","defaultValue":"Enabled"}],"error":null}""";

        var items = WireMapping.ToPolicies(CoreClient.UnwrapData(NativeMethods.Status.Ok, json));

        var item = Assert.Single(items);
        Assert.Equal("AllowSelfServicePurchase", item.PolicyId);
    }

    [Fact]
    public void A_reply_that_is_not_json_is_an_invalid_response()
    {
        var error = Assert.Throws<MSCommerceException>(() => CoreClient.UnwrapData(NativeMethods.Status.Ok, "{not json"));

        Assert.Equal("InvalidResponse", error.Code);
        Assert.True(error.Terminating);
    }

    [Fact]
    public void Data_of_the_wrong_shape_is_an_invalid_response()
    {
        const string json = """{"ok":true,"data":{"kind":"Policy"},"error":null}""";

        var error = Assert.Throws<MSCommerceException>(() => WireMapping.ToPolicies(CoreClient.UnwrapData(NativeMethods.Status.Ok, json)));

        Assert.Equal("InvalidResponse", error.Code);
    }

    [Fact]
    public void A_cancelled_status_without_an_envelope_is_a_cancelled_error()
    {
        var error = Assert.Throws<MSCommerceException>(() => CoreClient.UnwrapData(NativeMethods.Status.Cancelled, null));

        Assert.Equal("Cancelled", error.Code);
        Assert.Equal("OperationStopped", error.Category);
    }

    [Fact]
    public void A_failure_status_with_a_success_envelope_is_still_a_failure()
    {
        var error = Assert.Throws<MSCommerceException>(() => CoreClient.UnwrapData(NativeMethods.Status.Internal, """{"ok":true,"data":{},"error":null}"""));

        Assert.Equal("Internal", error.Code);
    }

    [Fact]
    public void A_request_names_its_fields_as_the_abi_does()
    {
        var request = CoreRequest.GetProductPolicies("AllowSelfServicePurchase", "OfferType", "secret");
        request.OperationId = 42;

        using var json = JsonDocument.Parse(Json.Serialize(request));

        var root = json.RootElement;
        Assert.Equal(["op", "operationId", "token", "policyId", "scope"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("getProductPolicies", root.GetProperty("op").GetString());
        Assert.Equal(42UL, root.GetProperty("operationId").GetUInt64());
        Assert.Equal("secret", root.GetProperty("token").GetString());
        Assert.Equal("AllowSelfServicePurchase", root.GetProperty("policyId").GetString());
        Assert.Equal("OfferType", root.GetProperty("scope").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_request_without_a_token_leaves_the_token_out(string? token)
    {
        using var json = JsonDocument.Parse(Json.Serialize(CoreRequest.GetPolicies(token)));

        Assert.Equal(["op"], json.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void The_client_configuration_names_its_fields_as_the_abi_does()
    {
        using var json = JsonDocument.Parse(Json.Serialize(new ClientConfigWire { ServiceUri = "http://127.0.0.1:1", UserAgent = CoreClient.UserAgent }));

        Assert.Equal("http://127.0.0.1:1", json.RootElement.GetProperty("serviceUri").GetString());
        Assert.Matches(@"^MSCommerce/\d+\.\d+\.\d+[^+]*$", json.RootElement.GetProperty("userAgent").GetString());
        Assert.False(json.RootElement.TryGetProperty("accessToken", out _));
    }
}
