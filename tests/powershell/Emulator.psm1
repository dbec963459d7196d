# Starts and stops the emulator for PowerShell-level tests and the demo.

function Start-TestEmulator {
    [CmdletBinding()]
    param(
        # The emulator binary; defaults to $env:MSCOMMERCE_EMULATOR (set by `cargo xtask test`).
        [string] $Path = $env:MSCOMMERCE_EMULATOR
    )
    if (-not $Path -or -not (Test-Path -LiteralPath $Path)) {
        throw "The emulator binary was not found ('$Path'): run the tests through build.ps1 or cargo xtask."
    }
    $data = Join-Path ([IO.Path]::GetTempPath()) ("mscommerce-pstest-" + [guid]::NewGuid())
    $null = New-Item -ItemType Directory -Path $data
    $info = [Diagnostics.ProcessStartInfo]::new($Path)
    # ProcessStartInfo.ArgumentList is not in Windows PowerShell 5.1's .NET Framework.
    $info.Arguments = "serve --port 0 --data `"$data`""
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    # Drain stderr so a chatty emulator never blocks on a full pipe.
    $null = $process.StandardError.ReadToEndAsync()
    $read = $process.StandardOutput.ReadLineAsync()
    if (-not $read.Wait([TimeSpan]::FromSeconds(60))) {
        $process.Kill()
        throw 'The emulator did not print its ready line within 60 seconds.'
    }
    $ready = $read.Result | ConvertFrom-Json
    [pscustomobject]@{
        Process    = $process
        Path       = $Path
        DataPath   = $data
        ServiceUri = $ready.serviceUri
    }
}

function New-TestToken {
    <# A valid access token for a seeded user, from the emulator's `token` command (its last line). #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] $Emulator,
        [string] $User = 'admin@contoso.onmicrosoft.com',
        [string] $Tenant = 'contoso.onmicrosoft.com'
    )
    $lines = & $Emulator.Path token --tenant $Tenant --user $User --data $Emulator.DataPath
    if ($LASTEXITCODE -ne 0) { throw "The emulator's token command failed for $User (exit code $LASTEXITCODE)." }
    @($lines)[-1].Trim()
}

function Stop-TestEmulator {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator)
    if (-not $Emulator.Process.HasExited) {
        $Emulator.Process.Kill()
        $null = $Emulator.Process.WaitForExit(10000)
    }
    Remove-Item -LiteralPath $Emulator.DataPath -Recurse -Force -ErrorAction SilentlyContinue
}

Export-ModuleMember -Function Start-TestEmulator, Stop-TestEmulator, New-TestToken
