using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

/// <summary>
/// Starts the emulator (<c>$MSCOMMERCE_EMULATOR serve --port 0 --data &lt;temp&gt;</c>) once for a
/// test class, reads its ready line, and stops it at the end. The native library comes from
/// <c>$MSCOMMERCE_NATIVE_DIR</c> through the module's normal loader. Without those variables
/// every live test fails and says how to run it: a skipped live suite would pass for nothing.
/// </summary>
public sealed class EmulatorFixture : IDisposable
{
    public const string EmulatorVariable = "MSCOMMERCE_EMULATOR";

    /// <summary>Where the native core keeps the token cache; the test run gives it a folder of its own.</summary>
    public const string CacheDirectoryVariable = "MSCOMMERCE_TOKEN_CACHE_DIR";

    /// <summary>The seeded tenant the live tests act on, and its users by role.</summary>
    public const string Tenant = "contoso.onmicrosoft.com";
    public const string Admin = "admin@contoso.onmicrosoft.com";
    public const string Reader = "reader@contoso.onmicrosoft.com";
    public const string NoRole = "user@contoso.onmicrosoft.com";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process? emulator;
    private readonly string? dataDirectory;
    private readonly StringBuilder emulatorErrors = new();
    private readonly string? problem;
    private readonly CoreClient? client;
    private readonly string? emulatorPath;
    private readonly Dictionary<string, string> tokens = new();

    public EmulatorFixture()
    {
        var nativeDirectory = Environment.GetEnvironmentVariable(NativeLibraryLoader.DirectoryOverrideVariable);
        emulatorPath = Environment.GetEnvironmentVariable(EmulatorVariable);
        if (string.IsNullOrEmpty(nativeDirectory) || string.IsNullOrEmpty(emulatorPath) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CacheDirectoryVariable)))
        {
            problem = $"The live tests need {NativeLibraryLoader.DirectoryOverrideVariable} (the folder holding the native library), " +
                $"{EmulatorVariable} (the emulator binary) and {CacheDirectoryVariable} (a token cache folder of their own, so they never touch yours). " +
                "Run `cargo xtask test`, which builds both and sets them.";
            return;
        }

        try
        {
            dataDirectory = Directory.CreateTempSubdirectory("mscommerce-emulator-").FullName;
            emulator = StartEmulator(emulatorPath, dataDirectory);
            ServiceUri = ReadServiceUri(emulator);
            client = CoreClient.Create(ServiceUri);
        }
        catch (Exception e)
        {
            problem = $"The live test fixture could not start (emulator '{emulatorPath}', native folder '{nativeDirectory}'): {e}\nEmulator stderr:\n{Errors}";
        }
    }

    /// <summary>A token of the tenant's global administrator.</summary>
    public string Token => TokenFor(Admin);

    /// <summary>
    /// A valid access token for <paramref name="upn"/>, minted by the emulator's <c>token</c>
    /// command from the running emulator's data folder (the last line it prints).
    /// </summary>
    public string TokenFor(string upn) => TokenFor(upn, Tenant);

    /// <summary>A valid access token for <paramref name="upn"/> of <paramref name="tenant"/>.</summary>
    public string TokenFor(string upn, string tenant)
    {
        _ = Client; // fails the test with the fixture's problem, if any
        lock (tokens)
        {
            if (tokens.TryGetValue(upn, out var cached))
            {
                return cached;
            }

            var start = new ProcessStartInfo(emulatorPath!)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "token", "--tenant", tenant, "--user", upn, "--data", dataDirectory! })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"the emulator's token command failed for {upn}: {errors}");
            var token = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().Trim();
            tokens[upn] = token;
            return token;
        }
    }

    /// <summary>
    /// Calls the emulator's admin area (<c>/admin</c> + <paramref name="path"/>) with an optional
    /// JSON body and returns the answer's body; a status other than 2xx fails the test.
    /// </summary>
    public string CallAdmin(HttpMethod method, string path, string? json = null)
    {
        _ = Client;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, ServiceUri.TrimEnd('/') + "/admin" + path);
        if (json != null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = http.Send(request);
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"{method} /admin{path} answered {(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>The emulator's base URI, as its ready line gives it.</summary>
    public string ServiceUri { get; } = string.Empty;

    /// <summary>A client of the emulator, without a credential of its own.</summary>
    public CoreClient Client
    {
        get
        {
            if (problem != null)
            {
                Assert.Fail(problem);
            }

            return client!;
        }
    }

    private string Errors
    {
        get
        {
            lock (emulatorErrors)
            {
                return emulatorErrors.ToString();
            }
        }
    }

    public void Dispose()
    {
        client?.Dispose();
        if (emulator != null)
        {
            try
            {
                if (!emulator.HasExited)
                {
                    emulator.Kill(entireProcessTree: true);
                    emulator.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
                // It has exited already.
            }

            emulator.Dispose();
        }

        if (dataDirectory != null)
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still open; the temp folder is cleaned elsewhere.
            }
        }
    }

    private Process StartEmulator(string path, string data)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add("0");
        start.ArgumentList.Add("--data");
        start.ArgumentList.Add(data);
        // Device code sign-in polls every second instead of five, to keep the tests quick.
        start.ArgumentList.Add("--device-code-interval-seconds");
        start.ArgumentList.Add("1");

        var process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned no process.");
        process.ErrorDataReceived += (_, e) =>
        {
            lock (emulatorErrors)
            {
                if (e.Data != null && emulatorErrors.Length < 64 * 1024)
                {
                    emulatorErrors.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        return process;
    }

    private static string ReadServiceUri(Process process)
    {
        var read = Task.Run(process.StandardOutput.ReadLine);
        if (!read.Wait(ReadyTimeout))
        {
            throw new TimeoutException($"The emulator printed no ready line within {ReadyTimeout.TotalSeconds} s.");
        }

        var line = read.Result ?? throw new InvalidOperationException($"The emulator exited before it was ready (exit code {(process.HasExited ? process.ExitCode : -1)}).");

        // Anything printed later must not fill the pipe and block the emulator.
        _ = process.StandardOutput.ReadToEndAsync();

        using var ready = JsonDocument.Parse(line);
        return ready.RootElement.GetProperty("serviceUri").GetString()
            ?? throw new InvalidOperationException("The ready line has no serviceUri: " + line);
    }
}
