// The .NET-level benchmarks of `cargo xtask bench`: what the module's cmdlets do, measured through
// the managed client they use (CoreClient), beside what an admin's script does with HttpClient.
// Where PowerShell is installed, bench/powershell/bench.ps1 measures the same at the PowerShell
// level; these figures are measured on every machine.
//
//   MSCOMMERCE_NATIVE_DIR=<folder of the native library> MSCOMMERCE_EMULATOR=<emulator binary> \
//     dotnet run -c Release --project bench/MSCommerce.Bench [-- --import-runs 15 --calls 200 --bulk 1000 --latency-ms 5]
//
// It starts its own emulator and prints one JSON document on the last line of stdout; progress
// goes to stderr. Sections:
//   import: in fresh child processes (this program with `import-child`), the time and memory of
//           loading MSCommerce.dll, loading the native library and creating a client (more than
//           Import-Module does: the module creates its client on the first cmdlet), median of runs;
//   call:   one getProductPolicies through CoreClient vs a raw HttpClient GET of the same URL with
//           the same token, deserialized (System.Text.Json) into the same ProductPolicy objects,
//           interleaved, medians;
//   bulk:   disabling N products with the emulator adding latency to every request: the module's
//           bulk update vs a sequential HttpClient PUT loop (what the original module does one
//           cmdlet call at a time) vs CoreClient.UpdateProductPolicy once per product.

using System.Diagnostics;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MSCommerce.Bench;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "import-child")
        {
            return ImportChild.Run(args.Length > 1 ? args[1] : "http://127.0.0.1:1");
        }

        try
        {
            var options = Options.Parse(args);
            var report = Benchmarks.Run(options);
            Console.WriteLine(report.ToJsonString());
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("bench failed: " + e);
            return 1;
        }
    }
}

internal sealed record Options(int ImportRuns, int Calls, int Bulk, int LatencyMs)
{
    public static Options Parse(string[] args)
    {
        int Value(string name, int fallback)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], out var value) ? value : fallback;
        }

        return new Options(Value("--import-runs", 15), Value("--calls", 200), Value("--bulk", 1000), Value("--latency-ms", 5));
    }
}

/// <summary>
/// One fresh process: loads MSCommerce.dll, the native library and creates a client, and prints
/// the time each step took and the memory the process gained, as one JSON line. Nothing of
/// MSCommerce may be loaded before: this class only touches it inside <see cref="LoadAssembly"/>
/// and <see cref="CreateClient"/>.
/// </summary>
internal static class ImportChild
{
    public static int Run(string serviceUri)
    {
        // Warm what the measurement itself uses (Process, Stopwatch), then take the baseline.
        _ = Snapshot();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = Snapshot();
        var loadedBefore = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MSCommerce");

        var clock = Stopwatch.StartNew();
        var types = LoadAssembly();
        var assemblyMs = clock.Elapsed.TotalMilliseconds;
        var client = CreateClient(serviceUri);
        var totalMs = clock.Elapsed.TotalMilliseconds;

        var after = Snapshot();
        GC.KeepAlive(client);
        Console.WriteLine(new JsonObject
        {
            ["assemblyMs"] = assemblyMs,
            ["nativeAndClientMs"] = totalMs - assemblyMs,
            ["totalMs"] = totalMs,
            ["workingSetBytes"] = after.WorkingSet - before.WorkingSet,
            ["privateBytes"] = after.Private - before.Private,
            ["properties"] = types,
            ["loadedBefore"] = loadedBefore,
        }.ToJsonString());
        return 0;
    }

    private static (long WorkingSet, long Private) Snapshot()
    {
        using var self = Process.GetCurrentProcess();
        return (self.WorkingSet64, self.PrivateMemorySize64);
    }

    /// <summary>Loads MSCommerce.dll and the client's and output objects' types. (PowerShell also
    /// loads the cmdlet classes, which need its own System.Management.Automation: not here.)</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int LoadAssembly()
    {
        var types = new[] { typeof(MSCommerce.Interop.CoreClient), typeof(ProductPolicy), typeof(Policy), typeof(ScopePolicy) };
        return types.Sum(t => t.GetProperties().Length);
    }

    /// <summary>Loads the native library and creates a client (what the first cmdlet of a session does).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static object CreateClient(string serviceUri) => MSCommerce.Interop.CoreClient.Create(serviceUri);
}

internal static class Benchmarks
{
    // The module's default -ThrottleLimit: internal to the shim, reached as the profile reaches its phases.
    private static int DefaultThrottleLimit() =>
        (int)typeof(MSCommerce.Interop.CoreClient).Assembly
            .GetType("MSCommerce.Interop.CoreDefaults", throwOnError: true)!
            .GetField("ThrottleLimit", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .GetValue(null)!;

    private const string PolicyId = "AllowSelfServicePurchase";
    private const string Tenant = "contoso.onmicrosoft.com";
    private const string Admin = "admin@contoso.onmicrosoft.com";

    private static readonly JsonSerializerOptions WireOptions = new() { PropertyNameCaseInsensitive = true };

    public static JsonObject Run(Options options)
    {
        var native = Environment.GetEnvironmentVariable("MSCOMMERCE_NATIVE_DIR");
        var emulatorPath = Environment.GetEnvironmentVariable("MSCOMMERCE_EMULATOR");
        if (string.IsNullOrEmpty(native) || string.IsNullOrEmpty(emulatorPath))
        {
            throw new InvalidOperationException("Set MSCOMMERCE_NATIVE_DIR (the folder of the native library) and MSCOMMERCE_EMULATOR (the emulator binary); `cargo xtask bench` does.");
        }

        using var emulator = Emulator.Start(emulatorPath);
        var token = emulator.Token(Tenant, Admin);
        var report = new JsonObject
        {
            ["dotnet"] = Environment.Version.ToString(),
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        };

        Log($"import: {options.ImportRuns} fresh processes");
        report["import"] = Import(options.ImportRuns, emulator.ServiceUri);

        // Like Connect-MSCommerce -AccessToken: one client of the session, holding the token.
        using var client = MSCommerce.Interop.CoreClient.Create(emulator.ServiceUri, token);
        using var http = RawClient(token);
        var calls = new JsonArray();
        Log($"call: {options.Calls} interleaved calls, seeded tenant");
        calls.Add(Call(client, http, emulator.ServiceUri, options.Calls));
        var profiles = new JsonArray { CallProfile.Run(client, native, emulator.ServiceUri, token, Math.Max(options.Calls / 4, 10)) };

        var added = emulator.AddProducts(Tenant, options.Bulk);
        Log($"call: {Math.Max(options.Calls / 4, 10)} interleaved calls, {added.Count} products added");
        calls.Add(Call(client, http, emulator.ServiceUri, Math.Max(options.Calls / 4, 10)));
        profiles.Add(CallProfile.Run(client, native, emulator.ServiceUri, token, Math.Max(options.Calls / 4, 10)));
        report["call"] = calls;
        report["callProfile"] = profiles;

        Log($"bulk: {added.Count} products, {options.LatencyMs} ms latency per request");
        report["bulk"] = Bulk(client, http, emulator, added, options.LatencyMs);
        return report;
    }

    private static void Log(string line) => Console.Error.WriteLine("bench: " + line);

    /// <summary>The HttpClient a script would use: one for the session, keep-alive, JSON accepted.</summary>
    private static HttpClient RawClient(string token)
    {
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90) });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return http;
    }

    private static JsonObject Import(int runs, string serviceUri)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var entry = typeof(Program).Assembly.Location;
        var samples = new List<JsonNode>();
        for (var run = 0; run < runs + 1; run++)
        {
            var start = new ProcessStartInfo(self)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };

            // Under `dotnet MSCommerce.Bench.dll` the host is dotnet itself.
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(entry);
            }

            start.ArgumentList.Add("import-child");
            start.ArgumentList.Add(serviceUri);
            using var child = Process.Start(start)!;
            var output = child.StandardOutput.ReadToEnd();
            var errors = child.StandardError.ReadToEnd();
            child.WaitForExit();
            if (child.ExitCode != 0)
            {
                throw new InvalidOperationException($"import-child failed ({child.ExitCode}): {errors}");
            }

            var sample = JsonNode.Parse(output.Trim().Split('\n').Last())!;
            if ((bool)sample["loadedBefore"]!)
            {
                throw new InvalidOperationException("MSCommerce.dll was loaded before the child measured its load.");
            }

            // The first run pays for a cold file cache; it is left out.
            if (run > 0)
            {
                samples.Add(sample);
            }
        }

        double Median(string name) => Stats.Median(samples.Select(s => (double)s[name]!));
        return new JsonObject
        {
            ["runs"] = runs,
            ["medianMs"] = Median("totalMs"),
            ["assemblyMs"] = Median("assemblyMs"),
            ["nativeAndClientMs"] = Median("nativeAndClientMs"),
            ["workingSetMb"] = Median("workingSetBytes") / (1024 * 1024),
            ["privateMb"] = Median("privateBytes") / (1024 * 1024),
            ["samplesMs"] = new JsonArray(samples.Select(s => (JsonNode)JsonValue.Create(Math.Round((double)s["totalMs"]!, 2))).ToArray()),
        };
    }

    /// <summary>The module's call and the raw request, interleaved (alternating which goes first).</summary>
    private static JsonObject Call(MSCommerce.Interop.CoreClient client, HttpClient http, string serviceUri, int iterations)
    {
        var url = $"{serviceUri.TrimEnd('/')}/v1.0/policies/{PolicyId}/products?scope=product";
        var module = new List<double>();
        var raw = new List<double>();
        var rawBytes = new List<double>();
        var moduleGc = 0.0;
        var rawGc = 0.0;
        var items = 0;
        // Enough calls first for the JIT's tiers to settle on both paths: with fewer, the
        // module's decoding of a large list still runs slower, not yet fully optimized code.
        const int warmUp = 100;
        for (var i = -warmUp; i < iterations; i++)
        {
            var first = i % 2 == 0;
            for (var turn = 0; turn < 3; turn++)
            {
                var which = (turn + (first ? 0 : 1)) % 3;
                var paused = GC.GetTotalPauseDuration();
                var clock = Stopwatch.StartNew();
                switch (which)
                {
                    case 0:
                        items = client.GetProductPolicies(PolicyId).Count;
                        break;
                    case 1:
                        var objects = RawGet(http, url);
                        if (objects.Count != items && items != 0)
                        {
                            throw new InvalidOperationException($"the raw request got {objects.Count} items, the module {items}");
                        }

                        break;
                    default:
                        RawBytes(http, url);
                        break;
                }

                var ms = clock.Elapsed.TotalMilliseconds;
                var gc = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds;
                if (i >= 0)
                {
                    (which == 0 ? module : which == 1 ? raw : rawBytes).Add(ms);
                    moduleGc += which == 0 ? gc : 0;
                    rawGc += which == 1 ? gc : 0;
                }
            }
        }

        var moduleMedian = Stats.Median(module);
        var rawMedian = Stats.Median(raw);
        return new JsonObject
        {
            ["items"] = items,
            ["iterations"] = iterations,
            ["moduleMedianMs"] = moduleMedian,
            ["rawMedianMs"] = rawMedian,
            ["rawBytesMedianMs"] = Stats.Median(rawBytes),
            ["differenceMs"] = moduleMedian - rawMedian,
            ["moduleP90Ms"] = Stats.Percentile(module, 0.9),
            ["moduleGcMsPerCall"] = moduleGc / iterations,
            ["rawGcMsPerCall"] = rawGc / iterations,
            ["rawP90Ms"] = Stats.Percentile(raw, 0.9),
        };
    }

    /// <summary>What Invoke-RestMethod does: one GET, the JSON turned into objects.</summary>
    private static List<ProductPolicy> RawGet(HttpClient http, string url)
    {
        using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, url));
        response.EnsureSuccessStatusCode();
        using var body = response.Content.ReadAsStream();
        return JsonSerializer.Deserialize<ProductList>(body, WireOptions)!.Items;
    }

    /// <summary>The same GET, its body read but not decoded: the request alone.</summary>
    private static void RawBytes(HttpClient http, string url)
    {
        using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, url));
        response.EnsureSuccessStatusCode();
        using var body = response.Content.ReadAsStream();
        body.CopyTo(Stream.Null);
    }

    private static ProductPolicy RawPut(HttpClient http, string serviceUri, string productId, string value)
    {
        var url = $"{serviceUri.TrimEnd('/')}/v1.0/policies/{PolicyId}/products/{Uri.EscapeDataString(productId)}";
        using var request = new HttpRequestMessage(HttpMethod.Put, url)
        {
            Content = new StringContent(JsonSerializer.Serialize(new { policyValue = value }), Encoding.UTF8, "application/json"),
        };
        using var response = http.Send(request);
        response.EnsureSuccessStatusCode();
        using var body = response.Content.ReadAsStream();
        return JsonSerializer.Deserialize<ProductPolicy>(body, WireOptions)!;
    }

    private static JsonObject Bulk(MSCommerce.Interop.CoreClient client, HttpClient http, Emulator emulator, List<string> products, int latencyMs)
    {
        var targets = products.Select(id => new MSCommerce.Interop.PolicyTarget(PolicyId, MSCommerce.Interop.PolicyItem.Product(id))).ToList();
        var disabled = MSCommerce.Interop.PolicyChange.ToValue("Disabled");

        void Reset()
        {
            var outcomes = client.UpdateProductPolicies(targets, MSCommerce.Interop.PolicyChange.ToValue("Enabled"), throttleLimit: 64);
            Check(outcomes, "Enabled");
        }

        void Check(IReadOnlyList<UpdateOutcome> outcomes, string value)
        {
            var bad = outcomes.Count(o => o.Error != null || (o.Item as ProductPolicy)?.PolicyValue != value);
            if (bad > 0 || outcomes.Count != targets.Count)
            {
                throw new InvalidOperationException($"{bad} of {outcomes.Count} updates did not set {value}: {outcomes.FirstOrDefault(o => o.Error != null)?.Error?.Message}");
            }
        }

        double Timed(Action action)
        {
            Reset();
            var clock = Stopwatch.StartNew();
            action();
            return clock.Elapsed.TotalSeconds;
        }

        emulator.Admin(HttpMethod.Put, "/faults", JsonSerializer.Serialize(new { latency = new { ms = latencyMs } }));
        try
        {
            // Warm both paths on a few products first (connections, JIT), outside the timings.
            client.UpdateProductPolicies(targets.Take(16), disabled);
            foreach (var id in products.Take(16))
            {
                RawPut(http, emulator.ServiceUri, id, "Disabled");
            }

            var bulkRuns = new List<double>();
            for (var run = 0; run < 3; run++)
            {
                bulkRuns.Add(Timed(() => Check(client.UpdateProductPolicies(targets, disabled), "Disabled")));
                Log($"bulk: module bulk (throttle 16, the default) {bulkRuns[^1]:F2} s");
            }

            var bulk8 = Timed(() => Check(client.UpdateProductPolicies(targets, disabled, throttleLimit: 8), "Disabled"));
            Log($"bulk: module bulk (throttle 8) {bulk8:F2} s");

            var sequential = Timed(() =>
            {
                foreach (var id in products)
                {
                    if (RawPut(http, emulator.ServiceUri, id, "Disabled").PolicyValue != "Disabled")
                    {
                        throw new InvalidOperationException($"{id} was not disabled");
                    }
                }
            });
            Log($"bulk: sequential raw PUT loop {sequential:F2} s");

            var perProduct = Timed(() =>
            {
                foreach (var target in targets)
                {
                    var item = (ProductPolicy)client.UpdateProductPolicy(PolicyId, target.Item, disabled);
                    if (item.PolicyValue != "Disabled")
                    {
                        throw new InvalidOperationException($"{target.Item.Id} was not disabled");
                    }
                }
            });
            Log($"bulk: module once per product {perProduct:F2} s");
            Reset();

            var bulkMedian = Stats.Median(bulkRuns);
            return new JsonObject
            {
                ["products"] = products.Count,
                ["latencyMs"] = latencyMs,
                ["throttleLimit"] = DefaultThrottleLimit(),
                ["moduleBulkS"] = bulkMedian,
                ["moduleBulkRunsS"] = new JsonArray(bulkRuns.Select(s => (JsonNode)JsonValue.Create(Math.Round(s, 3))).ToArray()),
                ["moduleBulk8S"] = bulk8,
                ["sequentialRawS"] = sequential,
                ["modulePerProductS"] = perProduct,
                ["speedupVsSequential"] = sequential / bulkMedian,
                ["speedupVsPerProduct"] = perProduct / bulkMedian,
            };
        }
        finally
        {
            emulator.Admin(HttpMethod.Delete, "/faults");
        }
    }

    private sealed class ProductList
    {
        public List<ProductPolicy> Items { get; set; } = [];
    }
}

/// <summary>
/// Where the time of one module call goes: the native core's part (mc_invoke called directly,
/// the answer copied and freed: HTTP, decoding, the envelope), the shim's decoding of the envelope
/// (JSON parsed into DataContractJsonSerializer's XML view, then read into wire objects), the
/// mapping to output objects, and the shim's call plumbing (its InvokeJson less the native part:
/// the request's JSON, the worker thread, the event pump, the UTF-8 copy of the answer).
/// The shim's internals are reached by reflection: a renamed one makes the profile say so
/// instead of failing the run.
/// </summary>
internal static class CallProfile
{
    [System.Runtime.InteropServices.UnmanagedFunctionPointer(System.Runtime.InteropServices.CallingConvention.Cdecl)]
    private delegate int ClientNew(IntPtr configJson, out ulong client, out IntPtr outJson);

    [System.Runtime.InteropServices.UnmanagedFunctionPointer(System.Runtime.InteropServices.CallingConvention.Cdecl)]
    private delegate int ClientFree(ulong client);

    [System.Runtime.InteropServices.UnmanagedFunctionPointer(System.Runtime.InteropServices.CallingConvention.Cdecl)]
    private delegate int Invoke(ulong client, IntPtr requestJson, ulong cancel, out IntPtr outJson);

    [System.Runtime.InteropServices.UnmanagedFunctionPointer(System.Runtime.InteropServices.CallingConvention.Cdecl)]
    private delegate void StringFree(IntPtr value);

    public static JsonObject Run(MSCommerce.Interop.CoreClient client, string nativeDirectory, string serviceUri, string token, int iterations)
    {
        try
        {
            return Measure(client, nativeDirectory, serviceUri, token, iterations);
        }
        catch (Exception e)
        {
            return new JsonObject { ["unavailable"] = e.GetType().Name + ": " + e.Message };
        }
    }

    private static JsonObject Measure(MSCommerce.Interop.CoreClient client, string nativeDirectory, string serviceUri, string token, int iterations)
    {
        const System.Reflection.BindingFlags Internal = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static;
        var shim = typeof(MSCommerce.Interop.CoreClient).Assembly;
        // What the module runs on a product list's envelope: one pass into the output objects.
        var readItems = (shim.GetType("MSCommerce.Interop.WireReader")?.GetMethod("TryReadItems", Internal) ?? throw new MissingMethodException("WireReader.TryReadItems"))
            .MakeGenericMethod(typeof(object));
        Predicate<object> products = item => item is MSCommerce.ProductPolicy || item is MSCommerce.ScopePolicy;
        var newRequest = shim.GetType("MSCommerce.Interop.CoreRequest")?.GetMethod("GetProductPolicies", Internal) ?? throw new MissingMethodException("CoreRequest.GetProductPolicies");
        var invokeJson = typeof(MSCommerce.Interop.CoreClient).GetMethod("InvokeJson", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance) ?? throw new MissingMethodException("CoreClient.InvokeJson");

        var file = OperatingSystem.IsWindows() ? "mscommerce_core.dll" : OperatingSystem.IsMacOS() ? "libmscommerce_core.dylib" : "libmscommerce_core.so";
        var library = System.Runtime.InteropServices.NativeLibrary.Load(Path.Combine(nativeDirectory, file));
        T Export<T>(string name) => System.Runtime.InteropServices.Marshal.GetDelegateForFunctionPointer<T>(System.Runtime.InteropServices.NativeLibrary.GetExport(library, name));
        var clientNew = Export<ClientNew>("mc_client_new");
        var clientFree = Export<ClientFree>("mc_client_free");
        var invoke = Export<Invoke>("mc_invoke");
        var stringFree = Export<StringFree>("mc_string_free");

        string Take(IntPtr pointer)
        {
            var text = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(pointer) ?? string.Empty;
            stringFree(pointer);
            return text;
        }

        var config = System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8(JsonSerializer.Serialize(new { serviceUri }));
        var request = System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8(JsonSerializer.Serialize(new { op = "getProductPolicies", policyId = "AllowSelfServicePurchase", token }));
        try
        {
            if (clientNew(config, out var native, out var created) != 0)
            {
                throw new InvalidOperationException("mc_client_new failed: " + Take(created));
            }

            Take(created);
            var phases = new Dictionary<string, List<double>>
            {
                ["module"] = [], ["plumbing"] = [], ["native"] = [], ["decode"] = [],
            };
            var items = 0;
            try
            {
                for (var i = -Math.Max(iterations / 5, 3); i < iterations; i++)
                {
                    // Each phase starts on a clean heap, so a collection of what another phase
                    // left behind is not charged to it (section 2's loop shows the collections).
                    var clock = new Stopwatch();
                    double Timed(Action action)
                    {
                        GC.Collect();
                        GC.WaitForPendingFinalizers();
                        clock.Restart();
                        action();
                        return clock.Elapsed.TotalMilliseconds;
                    }

                    var module = Timed(() => items = client.GetProductPolicies("AllowSelfServicePurchase").Count);

                    // The module's own path up to the raw envelope: request JSON, worker thread, mc_invoke, UTF-8 copy.
                    var arguments = new object?[] { newRequest.Invoke(null, ["AllowSelfServicePurchase", null, null]), CancellationToken.None, null, 0 };
                    var plumbing = Timed(() => invokeJson.Invoke(client, arguments));

                    var status = 0;
                    var envelope = string.Empty;
                    var nativeMs = Timed(() =>
                    {
                        status = invoke(native, request, 0, out var answer);
                        envelope = Take(answer);
                    });
                    if (status != 0)
                    {
                        throw new InvalidOperationException("mc_invoke failed: " + envelope);
                    }

                    var decoded = new object?[] { status, envelope, products, null };
                    var decodeMs = Timed(() => readItems.Invoke(null, decoded));
                    if (decoded[3] is not System.Collections.IList list || list.Count != items)
                    {
                        throw new InvalidOperationException("The module's reader did not read the envelope's " + items + " products.");
                    }
                    if (i >= 0)
                    {
                        phases["module"].Add(module);
                        phases["plumbing"].Add(plumbing);
                        phases["native"].Add(nativeMs);
                        phases["decode"].Add(decodeMs);
                    }
                }
            }
            finally
            {
                clientFree(native);
            }

            var median = phases.ToDictionary(p => p.Key, p => Stats.Median(p.Value));
            return new JsonObject
            {
                ["items"] = items,
                ["iterations"] = iterations,
                ["moduleMs"] = median["module"],
                ["nativeMs"] = median["native"],
                ["shimDecodeMs"] = median["decode"],
                ["shimCallMs"] = median["plumbing"] - median["native"],
            };
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeCoTaskMem(config);
            System.Runtime.InteropServices.Marshal.FreeCoTaskMem(request);
        }
    }
}

internal static class Stats
{
    public static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        if (p == 0.5 && sorted.Length % 2 == 0)
        {
            return (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }

        var index = Math.Clamp((int)Math.Ceiling(sorted.Length * p) - 1, 0, sorted.Length - 1);
        return sorted[index];
    }
}

/// <summary>An emulator of this run: a fresh data folder, a free port, stopped when disposed.</summary>
internal sealed class Emulator : IDisposable
{
    private readonly Process process;
    private readonly string path;
    private readonly string data;

    private Emulator(Process process, string path, string data, string serviceUri)
    {
        this.process = process;
        this.path = path;
        this.data = data;
        ServiceUri = serviceUri;
    }

    public string ServiceUri { get; }

    public static Emulator Start(string path)
    {
        var data = Directory.CreateTempSubdirectory("mscommerce-bench-").FullName;
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Relaxed durability: without an fsync per change the emulator takes a bulk update's
        // writes faster than the module sends them, so the figures are the module's, not the
        // disk's (docs/benchmarks.md, section 4, has both).
        foreach (var argument in new[] { "serve", "--port", "0", "--data", data, "--durability", "relaxed" })
        {
            start.ArgumentList.Add(argument);
        }

        // Quiet: a log line per request would slow the emulator down and fill the pipe.
        start.Environment["RUST_LOG"] = "warn";
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var ready = Task.Run(process.StandardOutput.ReadLine);
        if (!ready.Wait(TimeSpan.FromSeconds(60)) || ready.Result == null)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("The emulator did not print its ready line.");
        }

        _ = process.StandardOutput.ReadToEndAsync();
        using var line = JsonDocument.Parse(ready.Result);
        return new Emulator(process, path, data, line.RootElement.GetProperty("serviceUri").GetString()!);
    }

    /// <summary>A token minted by the emulator's <c>token</c> command (its last line).</summary>
    public string Token(string tenant, string user)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "token", "--tenant", tenant, "--user", user, "--data", data })
        {
            start.ArgumentList.Add(argument);
        }

        using var token = Process.Start(start)!;
        var output = token.StandardOutput.ReadToEnd();
        token.StandardError.ReadToEnd();
        token.WaitForExit();
        if (token.ExitCode != 0)
        {
            throw new InvalidOperationException("The emulator's token command failed.");
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().Trim();
    }

    /// <summary>Adds <paramref name="count"/> generated products to the tenant; their ids.</summary>
    public List<string> AddProducts(string tenant, int count)
    {
        var answer = JsonNode.Parse(Admin(HttpMethod.Post, $"/tenants/{tenant}/products", JsonSerializer.Serialize(new { count })))!;
        return answer["added"]!.AsArray().Select(id => (string)id!).ToList();
    }

    public string Admin(HttpMethod method, string path, string? json = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, ServiceUri.TrimEnd('/') + "/admin" + path);
        if (json != null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = http.Send(request);
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} /admin{path} answered {(int)response.StatusCode}: {body}");
        }

        return body;
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }

    }
}
