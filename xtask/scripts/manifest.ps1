#Requires -Version 5.1
<#
.SYNOPSIS
    Reads a module manifest the way PowerShell reads it and prints one line of JSON:
    {"data": <Import-PowerShellDataFile>, "problems": [<what Test-ModuleManifest refuses>]}.

.DESCRIPTION
    The xtask's package check (xtask/src/manifest.rs) runs this on the manifest inside the
    package, in a folder that holds the package's files, so Test-ModuleManifest also sees whether
    the files the manifest names are there.
#>
param(
    [Parameter(Mandatory)] [string] $Path
)

$ErrorActionPreference = 'Stop'
$data = Import-PowerShellDataFile -LiteralPath $Path
$problems = @()
try {
    $null = Test-ModuleManifest -Path $Path -ErrorAction SilentlyContinue -ErrorVariable refused -WarningAction SilentlyContinue
    $problems += @($refused | ForEach-Object { "Test-ModuleManifest: $_" })
}
catch {
    $problems += "Test-ModuleManifest: $_"
}
[ordered]@{ data = $data; problems = $problems } | ConvertTo-Json -Depth 20 -Compress
