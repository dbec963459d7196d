using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>The real native library against the emulator. The build driver (`cargo xtask test`) always runs these.</summary>
[Trait("Category", "Live")]
public sealed class LiveCoreClientTests : IClassFixture<EmulatorFixture>
{
    private const string PolicyId = "AllowSelfServicePurchase";

    private readonly EmulatorFixture emulator;

    public LiveCoreClientTests(EmulatorFixture emulator) => this.emulator = emulator;

    [Fact]
    public void Products_map_to_ProductPolicy_objects_with_every_property_set()
    {
        var items = emulator.Client.GetProductPolicies(PolicyId, scope: null, emulator.Token);

        Assert.NotEmpty(items);
        Assert.All(items, item =>
        {
            var product = Assert.IsType<ProductPolicy>(item);
            Assert.All(typeof(ProductPolicy).GetProperties(), p => Assert.False(string.IsNullOrEmpty((string?)p.GetValue(product)), p.Name + " is empty for " + product.ProductId));
            Assert.Equal(PolicyId, product.PolicyId);
        });
    }

    [Theory]
    [InlineData("getPolicies", null, typeof(Policy))]
    [InlineData("getProductPolicies", null, typeof(ProductPolicy))]
    [InlineData("getProductPolicies", "OfferType", typeof(ScopePolicy))]
    public void Wire_items_have_no_property_the_model_lacks(string op, string? scope, Type model)
    {
        var request = op == "getPolicies" ? CoreRequest.GetPolicies(emulator.Token) : CoreRequest.GetProductPolicies(PolicyId, scope, emulator.Token);

        var json = emulator.Client.InvokeJson(request, CancellationToken.None, sink: null, out var status);

        Assert.Equal(NativeMethods.Status.Ok, status);
        using var envelope = JsonDocument.Parse(json!);
        var modelProperties = model.GetProperties().Select(p => p.Name).Append("kind").ToHashSet(StringComparer.OrdinalIgnoreCase);
        var items = envelope.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.NotEmpty(items);
        Assert.All(items, item =>
        {
            Assert.Equal(model.Name, item.GetProperty("kind").GetString());
            Assert.All(item.EnumerateObject(), property => Assert.Contains(property.Name, modelProperties));
        });
    }

    [Fact]
    public void A_request_cancelled_before_it_starts_ends_as_Cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var error = Assert.Throws<MSCommerceException>(() => emulator.Client.GetPolicies(emulator.Token, cancelled.Token));

        Assert.Equal("Cancelled", error.Code);
    }

    [Fact]
    public void Cancelling_a_request_in_flight_ends_it_promptly_as_Cancelled()
    {
        _ = emulator.Client;
        using var silent = SilentServer(out var serviceUri);
        using var client = CoreClient.Create(serviceUri);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<MSCommerceException>(() => client.GetPolicies(emulator.Token, stop.Token));

        Assert.Equal(("Cancelled", true), (error.Code, clock.Elapsed < TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_sink_that_throws_stops_the_request_and_surfaces_its_exception()
    {
        _ = emulator.Client;
        using var silent = SilentServer(out var serviceUri);
        using var client = CoreClient.Create(serviceUri);
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<OperationCanceledException>(() => client.GetPolicies(emulator.Token, CancellationToken.None, new ThrowingSink()));

        Assert.Equal(("the pipeline is stopping", true), (error.Message, clock.Elapsed < TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Log_lines_and_progress_reach_the_sink_on_the_calling_thread_only()
    {
        var sink = new ThreadRecordingSink();

        emulator.Client.GetPolicies(emulator.Token, CancellationToken.None, sink);

        Assert.NotEmpty(sink.Threads);
        Assert.All(sink.Threads, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public void A_service_uri_the_library_refuses_is_an_InvalidArgument()
    {
        var error = Assert.Throws<MSCommerceException>(() => CoreClient.Create("http://example.com"));

        Assert.Equal("InvalidArgument", error.Code);
    }

    [Fact]
    public void The_host_probe_counts_the_policies_through_the_normal_loader()
    {
        _ = emulator.Client;

        Assert.True(Probe(new { serviceUri = emulator.ServiceUri, token = emulator.Token }) >= 1);
    }

    [Fact]
    public void The_host_probe_reports_a_failure_as_a_negative_number()
    {
        _ = emulator.Client;

        Assert.Equal(HostProbe.RequestFailed, Probe(new { serviceUri = emulator.ServiceUri }));
    }

    private static int Probe(object arguments)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(arguments));
        var buffer = Marshal.AllocHGlobal(bytes.Length);
        try
        {
            Marshal.Copy(bytes, 0, buffer, bytes.Length);
            return HostProbe.Probe(buffer, bytes.Length);
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    /// <summary>Accepts connections (the kernel does, through the backlog) and never answers.</summary>
    private static TcpListener SilentServer(out string serviceUri)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        serviceUri = "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }

    private sealed class ThrowingSink : IInvocationSink
    {
        public void WriteLog(CoreLogLevel level, string message) => throw new OperationCanceledException("the pipeline is stopping");

        public void WriteProgress(CoreProgress progress) => throw new OperationCanceledException("the pipeline is stopping");
    }

    private sealed class ThreadRecordingSink : IInvocationSink
    {
        public List<int> Threads { get; } = [];

        public void WriteLog(CoreLogLevel level, string message) => Threads.Add(Environment.CurrentManagedThreadId);

        public void WriteProgress(CoreProgress progress) => Threads.Add(Environment.CurrentManagedThreadId);
    }
}
