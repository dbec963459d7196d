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

    /// <summary>Any bearer token will do: the emulator checks only that there is one.</summary>
    public const string Token = "live-test-token";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly Process? emulator;
    private readonly string? dataDirectory;
    private readonly StringBuilder emulatorErrors = new();
    private readonly string? problem;
    private readonly CoreClient? client;

    public EmulatorFixture()
    {
        var nativeDirectory = Environment.GetEnvironmentVariable(NativeLibraryLoader.DirectoryOverrideVariable);
        var emulatorPath = Environment.GetEnvironmentVariable(EmulatorVariable);
        if (string.IsNullOrEmpty(nativeDirectory) || string.IsNullOrEmpty(emulatorPath))
        {
            problem = $"The live tests need {NativeLibraryLoader.DirectoryOverrideVariable} (the folder holding the native library) and " +
                $"{EmulatorVariable} (the emulator binary). Run `cargo xtask test`, which builds both and sets them.";
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
