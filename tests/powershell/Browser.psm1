# Opens a written policy report (Export-MSCommercePolicyReport) in headless Chromium for the Pester
# files: a screenshot for people, and the page's table read back from the browser's DOM by its
# data-* attributes, to compare with the service's state. Works in Windows PowerShell 5.1 and
# PowerShell 7. Every browser run has a timeout and is killed after it, so a test cannot hang.
#
# Without Chromium: outside CI a test skips (Get-ChromiumSkipReason says why); under CI
# (`$env:CI` set) Read-HtmlReportInChromium throws, so a missing browser fails the run instead of
# silently dropping the check.

function Find-Chromium {
    <#
    The Chromium-based browser to use: $env:CHROMIUM, else chromium, chromium-browser,
    google-chrome or google-chrome-stable on PATH, else Chrome or Edge where their installers put
    them on Windows and macOS. $null when there is none.
    #>
    if ($env:CHROMIUM) {
        if (Test-Path -LiteralPath $env:CHROMIUM -PathType Leaf) { return $env:CHROMIUM }
        return $null
    }
    foreach ($name in 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome') {
        $found = Get-Command -Name $name -CommandType Application -ErrorAction SilentlyContinue |
            Select-Object -First 1
        if ($found) { return $found.Source }
    }
    $installed = @(
        '/Applications/Chromium.app/Contents/MacOS/Chromium',
        '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'
    )
    foreach ($root in $env:ProgramFiles, ${env:ProgramFiles(x86)}, $env:LOCALAPPDATA) {
        if ($root) {
            $installed += Join-Path $root 'Google\Chrome\Application\chrome.exe'
            $installed += Join-Path $root 'Microsoft\Edge\Application\msedge.exe'
        }
    }
    foreach ($path in $installed) {
        if (Test-Path -LiteralPath $path -PathType Leaf) { return $path }
    }
    $null
}

function Get-ChromiumSkipReason {
    <#
    Why a browser test should be skipped here, or $null when it must run: Chromium was found, or
    $env:CI is set (then Read-HtmlReportInChromium throws the reason, failing the test).

        $skip = Get-ChromiumSkipReason
        if ($skip) { Set-ItResult -Skipped -Because $skip; return }
    #>
    if ($env:CI -or (Find-Chromium)) { return $null }
    'no Chromium (install it, e.g. `apt-get install -y chromium`, or set $env:CHROMIUM)'
}

function Invoke-HeadlessChromium {
    <#
    Runs the browser headless with a fresh profile (removed afterwards) and the given arguments;
    returns its standard output. Throws when it fails, or when it has not finished within
    TimeoutSeconds (it is killed then).
    #>
    param(
        [Parameter(Mandatory)] [string] $Binary,
        [Parameter(Mandatory)] [string[]] $ArgumentList,
        [int] $TimeoutSeconds = 60
    )
    $profileDir = Join-Path ([IO.Path]::GetTempPath()) ('mscommerce-chromium-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory -Path $profileDir
    $arguments = @(
        '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage', '--no-proxy-server', '--hide-scrollbars',
        "--user-data-dir=$profileDir"
    ) + $ArgumentList
    $info = [Diagnostics.ProcessStartInfo]::new($Binary)
    # ProcessStartInfo.ArgumentList is not in Windows PowerShell 5.1's .NET Framework, so the
    # command line is quoted here: every argument in double quotes, inner quotes doubled away.
    $info.Arguments = ($arguments | ForEach-Object { '"' + ($_ -replace '"', '\"') + '"' }) -join ' '
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.StandardOutputEncoding = [Text.Encoding]::UTF8
    $process = [Diagnostics.Process]::Start($info)
    try {
        # Both pipes are drained while waiting, so a chatty browser never blocks on a full one.
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            # The whole tree (renderers too) where .NET can (Core 3+); the browser alone on 5.1.
            try { $process.Kill($true) }
            catch [Management.Automation.MethodException] { $process.Kill() }
            catch { $null = $_ }
            throw "Chromium did not finish within $TimeoutSeconds seconds (it was stopped): $Binary $($ArgumentList -join ' ')"
        }
        $process.WaitForExit()
        if ($process.ExitCode -ne 0) {
            throw "Chromium failed (exit code $($process.ExitCode)): $($stderr.Result)"
        }
        $stdout.Result
    }
    finally {
        $process.Dispose()
        Remove-Item -LiteralPath $profileDir -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function ConvertFrom-ReportDom {
    <#
    The table of a report's HTML (as written, or as a browser serialised its DOM), read by its
    data-* attributes only: one object per product cell (TenantId, ProductId, Value, Expected,
    Drift, Error = $null) and one per tenant that could not be read (ProductId, Value and
    Expected $null, Drift $false, Error its message), in page order.
    #>
    param([Parameter(Mandatory)] [AllowEmptyString()] [string] $Html)
    # A start tag of tr or td; attribute values are matched quote to quote, so a '>' inside one
    # does not end the tag.
    $tag = [regex]'<(?<name>tr|td)(?<attributes>(?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|''[^'']*''|[^\s>"'']+))?)*)\s*/?>'
    $attribute = [regex]'(?<key>[^\s=>/]+)(?:\s*=\s*(?:"(?<v>[^"]*)"|''(?<v>[^'']*)''|(?<v>[^\s>"'']+)))?'
    $tenant = $null
    foreach ($match in $tag.Matches($Html)) {
        $values = @{}
        foreach ($pair in $attribute.Matches($match.Groups['attributes'].Value)) {
            $values[$pair.Groups['key'].Value.ToLowerInvariant()] = [Net.WebUtility]::HtmlDecode($pair.Groups['v'].Value)
        }
        if ($match.Groups['name'].Value -eq 'tr') {
            $tenant = $values['data-tenant']
            if ($null -ne $tenant -and $values.ContainsKey('data-error')) {
                [pscustomobject]@{
                    PSTypeName = 'MSCommerce.Test.ReportCell'
                    TenantId   = $tenant
                    ProductId  = $null
                    Value      = $null
                    Expected   = $null
                    Drift      = $false
                    Error      = $values['data-error']
                }
            }
        }
        elseif ($null -ne $tenant -and $values.ContainsKey('data-product-id')) {
            [pscustomobject]@{
                PSTypeName = 'MSCommerce.Test.ReportCell'
                TenantId   = $tenant
                ProductId  = $values['data-product-id']
                Value      = $values['data-value']
                Expected   = $values['data-expected']
                Drift      = $values['data-drift'] -eq 'true'
                Error      = $null
            }
        }
    }
}

function Read-HtmlReportInChromium {
    <#
    Opens the report at Path in headless Chromium: saves a screenshot (<name>.png, 1400x900) and
    the DOM as the browser built it (<name>.dom.html) in OutputFolder, and returns the DOM's table
    (ConvertFrom-ReportDom). Throws when there is no Chromium (whether or not $env:CI is set; call
    Get-ChromiumSkipReason first to skip outside CI), when a run fails or passes TimeoutSeconds,
    or when no screenshot was written.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Path,
        [Parameter(Mandatory)] [string] $OutputFolder,
        [int] $TimeoutSeconds = 60
    )
    $ErrorActionPreference = 'Stop'
    $binary = Find-Chromium
    if (-not $binary) {
        throw "Cannot open the report in a browser: no Chromium (install it, e.g. ``apt-get install -y chromium``, or set `$env:CHROMIUM)."
    }
    $page = (Resolve-Path -LiteralPath $Path -ErrorAction Stop).ProviderPath
    $null = New-Item -ItemType Directory -Path $OutputFolder -Force
    $folder = (Resolve-Path -LiteralPath $OutputFolder).ProviderPath
    $name = [IO.Path]::GetFileNameWithoutExtension($page)
    # [Uri]::new, not a cast: a cast reads '/work/report.html' as a relative URI.
    $url = [Uri]::new($page).AbsoluteUri
    $screenshot = Join-Path $folder "$name.png"
    Remove-Item -LiteralPath $screenshot -ErrorAction SilentlyContinue
    $null = Invoke-HeadlessChromium -Binary $binary -TimeoutSeconds $TimeoutSeconds -ArgumentList @(
        '--window-size=1400,900', "--screenshot=$screenshot", $url)
    if (-not (Test-Path -LiteralPath $screenshot -PathType Leaf)) {
        throw "Chromium wrote no screenshot to '$screenshot'."
    }
    Write-Verbose "screenshot: $screenshot"
    $dom = Invoke-HeadlessChromium -Binary $binary -TimeoutSeconds $TimeoutSeconds -ArgumentList @('--dump-dom', $url)
    [IO.File]::WriteAllText((Join-Path $folder "$name.dom.html"), $dom, [Text.UTF8Encoding]::new($false))
    if ($dom -notmatch '</tbody>') {
        throw "Chromium's DOM of '$page' has no complete table (saved as $name.dom.html)."
    }
    ConvertFrom-ReportDom -Html $dom
}

Export-ModuleMember -Function Find-Chromium, Get-ChromiumSkipReason, ConvertFrom-ReportDom, Read-HtmlReportInChromium
