#Requires -Version 5.1
<#
.SYNOPSIS
    Settings set in the session with $env: are honoured on every OS: the service and authority
    (MSCOMMERCE_SERVICE_URI, MSCOMMERCE_AUTHORITY_URI), the token cache (MSCOMMERCE_TOKEN_CACHE,
    MSCOMMERCE_TOKEN_CACHE_DIR), the browser (MSCOMMERCE_BROWSER) and the proxies (HTTPS_PROXY,
    HTTP_PROXY, NO_PROXY); and HTTP failures are worded as this edition's web cmdlets word them.

.DESCRIPTION
    A Pester 5 file, self-contained: it starts its own emulator and imports the module from
    $env:MSCOMMERCE_MODULE_DIR in runspaces of its own, one per test, so each starts with a fresh,
    unconnected client. On Linux and macOS, $env: changes only .NET's copy of the environment,
    never the one the native core could read: every value these tests set differs from what the
    runner put in the process environment, so only values the shim passed can pass them.

    Nothing here leaves loopback: the service and authority are the emulator or a loopback port,
    each test checks with Get-MSCommerceConnection where calls will go before it makes one, and
    HTTPS_PROXY points at a closed loopback port unless a test sets it, so an https request that
    went anywhere would go nowhere. Tokens reach the runspaces as script arguments and are never
    written to the output. Every $env: variable changed here is restored afterwards.
#>

BeforeDiscovery {
    # The browser test's stand-in is a shell script.
    $onWindows = $PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows
}

BeforeAll {
    $ErrorActionPreference = 'Stop'
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    $manifest = Get-TestModuleManifest

    # Every variable this file changes, as the runner left it ($null: not set).
    $touched = 'MSCOMMERCE_SERVICE_URI', 'MSCOMMERCE_AUTHORITY_URI', 'MSCOMMERCE_TOKEN_CACHE',
    'MSCOMMERCE_TOKEN_CACHE_DIR', 'MSCOMMERCE_BROWSER', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY',
    'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'
    $saved = @{}
    foreach ($name in $touched) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }

    function Set-SessionVariable([string] $Name, [string] $Value) {
        # $env:X = '' would remove X as well; a null or empty value means "not set".
        if ($Value) { Set-Item -LiteralPath "env:$Name" -Value $Value } else { Remove-Item -LiteralPath "env:$Name" -ErrorAction SilentlyContinue }
    }

    # A loopback port nothing listens on.
    function Get-ClosedPort {
        $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $probe.Start()
        $port = $probe.LocalEndpoint.Port
        $probe.Stop()
        $port
    }
    $closedPort = Get-ClosedPort

    # What every test starts from: no service, authority or proxy variable but the safety net,
    # the runner's token cache and browser.
    function Reset-SessionVariable {
        foreach ($name in $touched) { Set-SessionVariable $name $null }
        Set-SessionVariable MSCOMMERCE_TOKEN_CACHE $saved.MSCOMMERCE_TOKEN_CACHE
        Set-SessionVariable MSCOMMERCE_TOKEN_CACHE_DIR $saved.MSCOMMERCE_TOKEN_CACHE_DIR
        Set-SessionVariable MSCOMMERCE_BROWSER $saved.MSCOMMERCE_BROWSER
        Set-SessionVariable HTTPS_PROXY "http://127.0.0.1:$closedPort"
    }

    $emulator = Start-TestEmulator
    $adminToken = New-TestToken -Emulator $emulator
    $emulatorPort = ([uri] $emulator.ServiceUri).Port
    $admin = 'admin@contoso.onmicrosoft.com'
    $publicService = 'https://licensing.m365.microsoft.com'

    # Before a runspace runs anything: where the module would send calls, checked against the
    # variables set, so a module that ignored them fails the test without sending anything.
    $guard = @'
$where = Get-MSCommerceConnection
foreach ($endpoint in @(@($where.ServiceUri, $env:MSCOMMERCE_SERVICE_URI), @($where.AuthorityUri, $env:MSCOMMERCE_AUTHORITY_URI))) {
    if ($endpoint[1] -and $endpoint[0] -ne $endpoint[1]) {
        throw "The module would call $($endpoint[0]) instead of $($endpoint[1]): nothing was sent."
    }
}
'@

    # Runs $Script in a new runspace with the module imported; with -NoWait returns it running
    # (finish it with Complete-InRunspace), else done, with its output, errors and warnings.
    # Arguments reach the script's param block.
    function Start-InRunspace([string] $Script, [object[]] $Arguments = @(), [switch] $NoWait) {
        $ps = [powershell]::Create()
        # Statements of one invocation go on after one throws: the guard runs on its own first.
        $null = $ps.AddScript("Import-Module '$manifest' 6>`$null").AddStatement().AddScript($guard).Invoke()
        if ($ps.Streams.Error.Count -gt 0) {
            $errors = @($ps.Streams.Error)
            $ps.Dispose()
            throw "Not run: $($errors[0])"
        }
        $ps.Commands.Clear()
        $null = $ps.AddScript($Script)
        foreach ($argument in $Arguments) { $null = $ps.AddArgument($argument) }
        if ($NoWait) {
            $handle = $ps.BeginInvoke()
            return [pscustomobject]@{ PowerShell = $ps; Handle = $handle }
        }
        $output = $ps.Invoke()
        [pscustomobject]@{ PowerShell = $ps; Output = @($output); Errors = @($ps.Streams.Error); Warnings = @($ps.Streams.Warning) }
    }

    function Complete-InRunspace($Run, [int] $TimeoutSeconds = 60) {
        if (-not $Run.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSeconds))) {
            $Run.PowerShell.Stop()
            throw "The runspace did not finish within $TimeoutSeconds seconds."
        }
        $output = $Run.PowerShell.EndInvoke($Run.Handle)
        $ps = $Run.PowerShell
        [pscustomobject]@{ PowerShell = $ps; Output = @($output); Errors = @($ps.Streams.Error); Warnings = @($ps.Streams.Warning) }
    }

    function Wait-Until([scriptblock] $Condition, [string] $What, [int] $TimeoutSeconds = 30) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out waiting for $What." }
            Start-Sleep -Milliseconds 50
        }
    }

    # An HTTP client of this test, never behind a proxy whatever the variables say.
    $handler = [Net.Http.HttpClientHandler]::new()
    $handler.UseProxy = $false
    $handler.AllowAutoRedirect = $false
    $http = [Net.Http.HttpClient]::new($handler)
    $http.Timeout = [TimeSpan]::FromSeconds(30)

    # What a person does with the emulator's sign-in page in a browser: picks the user and signs
    # in; the browser then follows the redirect to the module's loopback listener. Returns the
    # page the listener answers with.
    function Complete-BrowserSignIn([string] $Page, [string] $User) {
        $html = $http.GetStringAsync($Page).GetAwaiter().GetResult()
        $form = [Collections.Generic.Dictionary[string, string]]::new()
        foreach ($match in [regex]::Matches($html, '<input type="hidden" name="([^"]+)" value="([^"]*)">')) {
            $form[$match.Groups[1].Value] = [Net.WebUtility]::HtmlDecode($match.Groups[2].Value)
        }
        $form['user'] = $User
        $form['action'] = 'approve'
        $action = [uri]::new([uri] $Page, [regex]::Match($html, '<form method="post" action="([^"]+)"').Groups[1].Value)
        $content = [Net.Http.FormUrlEncodedContent]::new($form)
        $answer = $http.PostAsync($action, $content).GetAwaiter().GetResult()
        if ([int] $answer.StatusCode -ne 302) { throw "The sign-in page answered $([int] $answer.StatusCode), not a redirect." }
        $http.GetStringAsync($answer.Headers.Location).GetAwaiter().GetResult()
    }

    # What a person does with a device code: enters it on the emulator's device login page and
    # approves as $User.
    function Approve-DeviceCode([string] $Message, [string] $User) {
        $code = ($Message -split 'enter the code ')[1].Split(' ')[0]
        $form = [Collections.Generic.Dictionary[string, string]]::new()
        $form['user_code'] = $code
        $form['user'] = $User
        $form['action'] = 'approve'
        $answer = $http.PostAsync("$($emulator.ServiceUri)/devicelogin", [Net.Http.FormUrlEncodedContent]::new($form)).GetAwaiter().GetResult()
        if (-not $answer.IsSuccessStatusCode) { throw "The device login page answered $([int] $answer.StatusCode)." }
    }

    # Connect-MSCommerce -DeviceCode in a new runspace, approved as $User, then $Then; the
    # finished run.
    function Connect-WithDeviceCode([string] $User, [string] $Scope, [string] $Then = '') {
        $run = Start-InRunspace -NoWait "Connect-MSCommerce -DeviceCode -TenantId organizations -ContextScope $Scope 6>`$null; $Then"
        Wait-Until { $run.PowerShell.Streams.Warning.Count -gt 0 -or $run.Handle.IsCompleted } 'the device code message'
        if ($run.PowerShell.Streams.Warning.Count -gt 0) {
            Approve-DeviceCode "$($run.PowerShell.Streams.Warning[0])" $User
        }
        Complete-InRunspace $run
    }

    # A loopback HTTP proxy in a runspace of its own: it records each request line and answers a
    # plain request with one made-up policy (so an answer that came through it is plain to see),
    # and a CONNECT (a tunnel for https) with 502.
    function Start-TestProxy {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $seen = [Collections.Concurrent.ConcurrentQueue[string]]::new()
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($listener, $seen)
                $body = '{"items":[{"id":"AnsweredByTheTestProxy","description":"The test proxy answered.","defaultValue":"Enabled"}]}'
                while ($true) {
                    try { $client = $listener.AcceptTcpClient() } catch { break }
                    try {
                        $client.ReceiveTimeout = 5000
                        $stream = $client.GetStream()
                        $reader = [IO.StreamReader]::new($stream, [Text.Encoding]::ASCII, $false, 1024, $true)
                        $line = $reader.ReadLine()
                        while ($reader.ReadLine()) { }
                        $seen.Enqueue([string] $line)
                        $answer = if ($line -like 'CONNECT *') {
                            "HTTP/1.1 502 Bad Gateway`r`nContent-Length: 0`r`nConnection: close`r`n`r`n"
                        }
                        else {
                            "HTTP/1.1 200 OK`r`nContent-Type: application/json`r`nContent-Length: $($body.Length)`r`nConnection: close`r`n`r`n$body"
                        }
                        $bytes = [Text.Encoding]::ASCII.GetBytes($answer)
                        $stream.Write($bytes, 0, $bytes.Length)
                        $stream.Flush()
                    }
                    catch { }
                    finally { $client.Close() }
                }
            }).AddArgument($listener).AddArgument($seen)
        $handle = $ps.BeginInvoke()
        [pscustomobject]@{
            Uri        = "http://127.0.0.1:$($listener.LocalEndpoint.Port)"
            Listener   = $listener
            Seen       = $seen
            PowerShell = $ps
            Handle     = $handle
        }
    }

    function Stop-TestProxy($Proxy) {
        $Proxy.Listener.Stop()
        $null = $Proxy.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(10))
        $Proxy.PowerShell.Dispose()
    }

    function Get-ProxiedLine($Proxy) { @($Proxy.Seen.ToArray()) }

    $proxy = Start-TestProxy
}

AfterAll {
    if ($proxy) { Stop-TestProxy $proxy }
    if ($http) { $http.Dispose() }
    if ($emulator) { Stop-TestEmulator -Emulator $emulator }
    foreach ($name in $touched) { Set-SessionVariable $name $saved[$name] }
}

Describe 'MSCOMMERCE_SERVICE_URI and MSCOMMERCE_AUTHORITY_URI set in the session' {
    BeforeEach { Reset-SessionVariable }

    It 'point Connect-MSCommerce -AccessToken at the emulator, and the cmdlets read its data' {
        $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
        $env:MSCOMMERCE_AUTHORITY_URI = $emulator.ServiceUri
        # A product set over HTTP, so the answer can only come from this emulator.
        Set-TestServiceValue -Emulator $emulator -Token $adminToken -ProductId CFQ7TTC0N8SS -Value Disabled
        try {
            $run = Start-InRunspace -Arguments $adminToken @'
param($token)
Connect-MSCommerce -AccessToken $token 6>$null
$connection = Get-MSCommerceConnection
$connection
# Only once the connection says where calls go.
if ($connection.ServiceUri -eq $env:MSCOMMERCE_SERVICE_URI) {
    Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0N8SS
}
'@
            $run.Errors | Should -BeNullOrEmpty
            $connection = $run.Output[0]
            $connection.ServiceUri | Should -BeExactly $emulator.ServiceUri
            $connection.AuthorityUri | Should -BeExactly $emulator.ServiceUri
            $connection.Environment | Should -BeExactly 'Custom'
            $connection.Flow | Should -BeExactly 'AccessToken'
            $run.Output[1].ProductId | Should -BeExactly 'CFQ7TTC0N8SS'
            $run.Output[1].PolicyValue | Should -BeExactly 'Disabled' -Because "the emulator's value was set to Disabled"
        }
        finally {
            Set-TestServiceValue -Emulator $emulator -Token $adminToken -ProductId CFQ7TTC0N8SS -Value Enabled
            if ($run) { $run.PowerShell.Dispose() }
        }
    }

    It 'count when set after the first cmdlet of a session that never connected' {
        $run = Start-InRunspace -Arguments $adminToken, $emulator.ServiceUri @'
param($token, $serviceUri)
# The first cmdlet makes the runspace's client, with no service variable set.
$before = Get-MSCommerceConnection
$env:MSCOMMERCE_SERVICE_URI = $serviceUri
$after = Get-MSCommerceConnection
$policies = if ($after.ServiceUri -eq $serviceUri) { @(Get-MSCommercePolicies -Token $token).PolicyId }
[pscustomobject]@{ Before = $before.ServiceUri; After = $after.ServiceUri; Connected = $after.Connected; Policies = $policies }
'@
        try {
            $run.Errors | Should -BeNullOrEmpty
            $result = $run.Output[0]
            $result.Before | Should -BeExactly $publicService
            $result.After | Should -BeExactly $emulator.ServiceUri
            $result.Connected | Should -BeFalse
            $result.Policies | Should -Contain 'AllowSelfServicePurchase'
        }
        finally { $run.PowerShell.Dispose() }
    }

    It 'is the authority a sign-in goes to' {
        $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
        $env:MSCOMMERCE_AUTHORITY_URI = $emulator.ServiceUri
        $run = Connect-WithDeviceCode $admin -Scope Process -Then 'Get-MSCommerceConnection'
        try {
            $run.Errors | Should -BeNullOrEmpty
            $connection = $run.Output[-1]
            $connection.Flow | Should -BeExactly 'DeviceCode'
            $connection.Account | Should -BeExactly $admin
            $connection.AuthorityUri | Should -BeExactly $emulator.ServiceUri
        }
        finally { $run.PowerShell.Dispose() }
    }
}

Describe 'MSCOMMERCE_TOKEN_CACHE and MSCOMMERCE_TOKEN_CACHE_DIR set in the session' {
    BeforeAll {
        $cacheDir = Join-Path ([IO.Path]::GetTempPath()) ('mscommerce-settings-cache-' + [guid]::NewGuid().ToString('N'))
        function Get-CacheFile([string] $Folder) {
            if (Test-Path -LiteralPath $Folder) { @(Get-ChildItem -LiteralPath $Folder -Filter 'token-cache-*.json' -File) } else { @() }
        }
    }

    AfterAll {
        Remove-Item -LiteralPath $cacheDir -Recurse -Force -ErrorAction SilentlyContinue
    }

    BeforeEach { Reset-SessionVariable }

    It 'keep a sign-in in the folder set in the session, which a later session reconnects from' {
        $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
        $env:MSCOMMERCE_AUTHORITY_URI = $emulator.ServiceUri
        $env:MSCOMMERCE_TOKEN_CACHE = 'file'
        $env:MSCOMMERCE_TOKEN_CACHE_DIR = $cacheDir
        $runnersFolder = if ($saved.MSCOMMERCE_TOKEN_CACHE_DIR) { $saved.MSCOMMERCE_TOKEN_CACHE_DIR } else { $cacheDir }
        $runnersBefore = (Get-CacheFile $runnersFolder).Count

        $first = Connect-WithDeviceCode $admin -Scope CurrentUser -Then 'Get-MSCommerceConnection'
        try {
            $first.Errors | Should -BeNullOrEmpty
            $first.Output[-1].Flow | Should -BeExactly 'DeviceCode'
            $first.Output[-1].TokenCache | Should -BeExactly "file $cacheDir"
        }
        finally { $first.PowerShell.Dispose() }
        (Get-CacheFile $cacheDir).Count | Should -Be 1 -Because 'the sign-in is kept in the folder set in the session'
        if ($runnersFolder -ne $cacheDir) {
            (Get-CacheFile $runnersFolder).Count | Should -Be $runnersBefore -Because "the runner's folder is not the session's"
        }

        # A new session of the same user: no prompt, the account comes from the folder.
        $pending = Start-InRunspace -NoWait 'Connect-MSCommerce -DeviceCode 6>$null; Get-MSCommerceConnection; Disconnect-MSCommerce -ForgetAccount'
        try {
            Wait-Until { $pending.Handle.IsCompleted -or $pending.PowerShell.Streams.Warning.Count -gt 0 } 'the reconnection'
            $pending.PowerShell.Streams.Warning.Count | Should -Be 0 -Because 'no device code is asked for'
            $second = Complete-InRunspace $pending
            $second.Errors | Should -BeNullOrEmpty
            $second.Output[-1].Flow | Should -BeExactly 'TokenCache'
            $second.Output[-1].Account | Should -BeExactly $admin
        }
        finally {
            if (-not $pending.Handle.IsCompleted) { $pending.PowerShell.Stop() }
            $pending.PowerShell.Dispose()
        }
        (Get-CacheFile $cacheDir).Count | Should -Be 0 -Because 'Disconnect-MSCommerce -ForgetAccount removed it from the same folder'
    }

    It 'is the store the module uses: a value it cannot use is the one reported' {
        $env:MSCOMMERCE_TOKEN_CACHE = 'no-such-store'
        $run = Start-InRunspace 'Disconnect-MSCommerce -ForgetAccount'
        try {
            $run.Errors.Count | Should -Be 1
            $run.Errors[0].Exception.Message | Should -BeExactly 'MSCOMMERCE_TOKEN_CACHE must be auto, os or file.'
            $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidArgument*'
        }
        finally { $run.PowerShell.Dispose() }
    }
}

Describe 'MSCOMMERCE_BROWSER set in the session' {
    BeforeEach { Reset-SessionVariable }

    It 'is the program started with the sign-in page' -Skip:$onWindows {
        $browserDir = Join-Path ([IO.Path]::GetTempPath()) ('mscommerce-settings-browser-' + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $browserDir
        $browser = Join-Path $browserDir 'open-browser'
        $urlFile = Join-Path $browserDir 'url'
        # Writes the URL it is given to a file, as a browser would open it.
        [IO.File]::WriteAllText($browser, "#!/bin/sh`nprintf '%s' `"`$1`" > '$urlFile.tmp' && mv '$urlFile.tmp' '$urlFile'`n")
        & chmod 755 $browser
        $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
        $env:MSCOMMERCE_AUTHORITY_URI = $emulator.ServiceUri
        $env:MSCOMMERCE_BROWSER = $browser
        $run = Start-InRunspace -NoWait 'Connect-MSCommerce -ContextScope Process 6>$null; Get-MSCommerceConnection'
        try {
            Wait-Until { Test-Path -LiteralPath $urlFile } 'the browser to be started'
            $page = [IO.File]::ReadAllText($urlFile)
            $page | Should -BeLike "$($emulator.ServiceUri)/organizations/oauth2/v2.0/authorize?*"
            $page | Should -Match 'code_challenge_method=S256'
            $answer = Complete-BrowserSignIn $page $admin
            $answer | Should -Match 'You are signed in'
            $done = Complete-InRunspace $run
            $done.Errors | Should -BeNullOrEmpty
            $done.Output[-1].Flow | Should -BeExactly 'Browser'
            $done.Output[-1].Account | Should -BeExactly $admin
        }
        finally {
            if (-not $run.Handle.IsCompleted) { $run.PowerShell.Stop() }
            $run.PowerShell.Dispose()
            Remove-Item -LiteralPath $browserDir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

Describe 'HTTPS_PROXY, HTTP_PROXY and NO_PROXY set in the session' {
    BeforeEach {
        Reset-SessionVariable
        $proxy.Seen.Clear()
        # The emulator by name: a host NO_PROXY can name, and that reqwest proxies like any other.
        $env:MSCOMMERCE_SERVICE_URI = "http://localhost:$emulatorPort"
        $env:MSCOMMERCE_AUTHORITY_URI = "http://localhost:$emulatorPort"
    }

    It 'HTTP_PROXY carries the requests to an http service' {
        $env:HTTP_PROXY = $proxy.Uri
        $run = Start-InRunspace -Arguments $adminToken 'param($token) @(Get-MSCommercePolicies -Token $token).PolicyId'
        try {
            $run.Errors | Should -BeNullOrEmpty
            $run.Output -join ',' | Should -BeExactly 'AnsweredByTheTestProxy' -Because 'the test proxy answered'
            Get-ProxiedLine $proxy | Should -Contain "GET http://localhost:$emulatorPort/v1.0/policies HTTP/1.1"
        }
        finally { $run.PowerShell.Dispose() }
    }

    It 'NO_PROXY sends the requests for the hosts it names around the proxy' {
        $env:HTTP_PROXY = $proxy.Uri
        $env:NO_PROXY = 'localhost'
        $run = Start-InRunspace -Arguments $adminToken 'param($token) @(Get-MSCommercePolicies -Token $token).PolicyId'
        try {
            $run.Errors | Should -BeNullOrEmpty
            $run.Output -join ',' | Should -BeExactly 'AllowSelfServicePurchase' -Because 'the emulator answered directly'
            Get-ProxiedLine $proxy | Should -BeNullOrEmpty
        }
        finally { $run.PowerShell.Dispose() }
    }

    It 'HTTPS_PROXY carries the requests to an https service' {
        # An https service on a closed loopback port: only a CONNECT through the proxy reaches
        # anything, and the proxy refuses it.
        $env:MSCOMMERCE_SERVICE_URI = "https://localhost:$closedPort"
        $env:HTTPS_PROXY = $proxy.Uri
        $run = Start-InRunspace -Arguments $adminToken @'
param($token)
if ((Get-MSCommerceConnection).ServiceUri -eq $env:MSCOMMERCE_SERVICE_URI) {
    Get-MSCommercePolicies -Token $token -ErrorAction SilentlyContinue -ErrorVariable failed
    $failed | ForEach-Object { $_.FullyQualifiedErrorId }
}
'@
        try {
            $run.Output | Should -Not -BeNullOrEmpty -Because 'the request failed at the proxy'
            $run.Output[0] | Should -BeLike 'Network*'
            Get-ProxiedLine $proxy | Should -Contain "CONNECT localhost:$closedPort HTTP/1.1"
        }
        finally { $run.PowerShell.Dispose() }
    }

    It 'a proxy variable removed from the session is no longer used' {
        $env:HTTP_PROXY = $proxy.Uri
        $run = Start-InRunspace -Arguments $adminToken, $proxy.Uri @'
param($token, $proxyUri)
@(Get-MSCommercePolicies -Token $token).PolicyId
Remove-Item env:HTTP_PROXY
@(Get-MSCommercePolicies -Token $token).PolicyId
'@
        try {
            $run.Errors | Should -BeNullOrEmpty
            $run.Output -join ',' | Should -BeExactly 'AnsweredByTheTestProxy,AllowSelfServicePurchase'
            @(Get-ProxiedLine $proxy).Count | Should -Be 1
        }
        finally { $run.PowerShell.Dispose() }
    }
}

Describe 'HTTP failures' {
    BeforeEach { Reset-SessionVariable }

    It "are worded as this edition's web cmdlets word them, with the body exactly as received" {
        $env:MSCOMMERCE_SERVICE_URI = $emulator.ServiceUri
        $uri = "$($emulator.ServiceUri)/v1.0/policies/NoSuchPolicy"
        # What Invoke-RestMethod of this edition says of the same request (its ErrorDetails is
        # the body reformatted in PowerShell 7, so the body itself comes from a plain request).
        $irm = try {
            $null = Invoke-RestMethod -Uri $uri -Headers @{ Authorization = "Bearer $adminToken" }
            $null
        }
        catch { $_.Exception.Message }
        if ($PSVersionTable.PSEdition -eq 'Core') {
            $irm | Should -BeExactly 'Response status code does not indicate success: 404 (Not Found).'
        }
        else {
            $irm | Should -BeExactly 'The remote server returned an error: (404) Not Found.'
        }
        $request = [Net.Http.HttpRequestMessage]::new([Net.Http.HttpMethod]::Get, $uri)
        $request.Headers.Authorization = [Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $adminToken)
        $response = $http.SendAsync($request).GetAwaiter().GetResult()
        [int] $response.StatusCode | Should -Be 404
        $body = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
        $body | Should -Not -BeNullOrEmpty

        $run = Start-InRunspace -Arguments $adminToken 'param($token) Get-MSCommercePolicy -PolicyId NoSuchPolicy -Token $token'
        try {
            $run.Errors.Count | Should -Be 1
            $run.Errors[0].Exception.Message | Should -BeExactly "Failed to retrieve policy with PolicyId 'NoSuchPolicy', ErrorMessage - $irm ErrorDetails - $body"
            $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'NotFound*'
        }
        finally { $run.PowerShell.Dispose() }
    }
}
