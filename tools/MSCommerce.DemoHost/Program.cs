// Prints the policy and its products as tables through CoreClient, the way the cmdlets get them:
//   dotnet run -- <serviceUri> [token]
// The native library is found as the module finds it; set MSCOMMERCE_NATIVE_DIR to a folder that
// holds it (such as target/release) when running from the source tree. The token defaults to
// $MSCOMMERCE_TOKEN, then to a placeholder the emulator accepts; it is never printed.

using MSCommerce;
using MSCommerce.Interop;

if (args.Length < 1 || args.Length > 2)
{
    Console.Error.WriteLine("usage: MSCommerce.DemoHost <serviceUri> [token]");
    return 2;
}

var token = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("MSCOMMERCE_TOKEN") ?? "demo-token";

try
{
    using var client = CoreClient.Create(args[0]);
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };

    var policy = client.GetPolicy("AllowSelfServicePurchase", token, stop.Token, ConsoleSink.Instance);
    PrintTable([policy], ("PolicyId", p => p.PolicyId), ("Description", p => p.Description), ("DefaultValue", p => p.DefaultValue));

    var products = client.GetProductPolicies(policy.PolicyId!, scope: null, token, stop.Token, ConsoleSink.Instance).OfType<ProductPolicy>().ToList();
    PrintTable(products, ("PolicyValue", p => p.PolicyValue), ("ProductId", p => p.ProductId), ("PolicyId", p => p.PolicyId), ("ProductName", p => p.ProductName));
    return 0;
}
catch (MSCommerceException e)
{
    Console.Error.WriteLine($"{e.Code} ({e.Category}): {e.Message}");
    return 1;
}

// Like PowerShell's Format-Table -AutoSize: a header, dashes, then one row per object.
static void PrintTable<T>(IReadOnlyList<T> rows, params (string Name, Func<T, string?> Value)[] columns)
{
    var cells = rows.Select(row => columns.Select(c => c.Value(row) ?? string.Empty).ToArray()).ToList();
    var widths = columns.Select((c, i) => cells.Select(r => r[i].Length).Append(c.Name.Length).Max()).ToArray();
    string Line(IEnumerable<string> values) => string.Join(" ", values.Select((v, i) => i == widths.Length - 1 ? v : v.PadRight(widths[i])));

    Console.WriteLine();
    Console.WriteLine(Line(columns.Select(c => c.Name)));
    Console.WriteLine(Line(widths.Select(w => new string('-', w))));
    cells.ForEach(r => Console.WriteLine(Line(r)));
    Console.WriteLine();
}

/// <summary>Writes the request's warnings to stderr, and verbose lines when MSCOMMERCE_VERBOSE is set.</summary>
internal sealed class ConsoleSink : IInvocationSink
{
    public static readonly ConsoleSink Instance = new();

    private static readonly bool Verbose = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MSCOMMERCE_VERBOSE"));

    public void WriteLog(CoreLogLevel level, string message)
    {
        if (level <= CoreLogLevel.Warning || Verbose)
        {
            Console.Error.WriteLine($"{level.ToString().ToUpperInvariant()}: {message}");
        }
    }

    public void WriteProgress(CoreProgress progress)
    {
        if (Verbose)
        {
            Console.Error.WriteLine($"PROGRESS: {progress.Activity} - {progress.Status} ({progress.PercentComplete}%)");
        }
    }
}
