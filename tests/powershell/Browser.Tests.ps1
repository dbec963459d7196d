#Requires -Version 5.1
<#
.SYNOPSIS
    The browser helpers of the report tests (Browser.psm1): the table of a report is read back by
    its data-* attributes, and headless Chromium opens a page of that shape from disk, takes a
    screenshot and gives back the same table.

.DESCRIPTION
    A Pester 5 file needing no module and no emulator. Without Chromium the browser test is
    skipped, unless $env:CI is set: then it fails.
#>

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Browser.psm1') -Force
    # The shape render() writes (rust-core/src/report/html.rs), with the awkward cases in it.
    $page = @'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>t</title></head><body><table><thead><tr>
<th scope="col">Tenant</th><th scope="col" data-product-id="A">A</th><th scope="col" data-product-id="B&amp;1">&lt;b&gt;</th></tr></thead><tbody>
<tr class="drifted" data-tenant="contoso" data-products="2" data-drifted="1"><th scope="row">Contoso</th>
<td class="v-on drift" data-product-id="A" data-value="Enabled" data-expected="Disabled" data-drift="true" data-change="Changed" title="The baseline has Disabled">Enabled</td>
<td class="v-off" data-product-id="B&amp;1" data-value="Disabled">Disabled</td></tr>
<tr class="clean" data-tenant="fabrikam" data-products="1" data-drifted="0"><th scope="row">f</th>
<td class="none" data-product-id="A">—</td><td class="v-trial" data-product-id="B&amp;1" data-value="OnlyTrialsWithoutPaymentMethod">OnlyTrialsWithoutPaymentMethod</td></tr>
<tr class="failed" data-tenant="&quot;broken&quot;" data-error="403 &lt;Forbidden&gt; &amp; more"><th scope="row">b</th><td class="error" colspan="2">x</td></tr>
</tbody></table></body></html>
'@
    $expected = @(
        'contoso|A|Enabled|Disabled|True|'
        'contoso|B&1|Disabled||False|'
        'fabrikam|A|||False|'
        'fabrikam|B&1|OnlyTrialsWithoutPaymentMethod||False|'
        '"broken"||||False|403 <Forbidden> & more'
    )
    function Format-Cell {
        process { '{0}|{1}|{2}|{3}|{4}|{5}' -f $_.TenantId, $_.ProductId, $_.Value, $_.Expected, $_.Drift, $_.Error }
    }
}

Describe 'ConvertFrom-ReportDom' {
    It 'reads every cell and error row by its attributes, references decoded, in page order' {
        ConvertFrom-ReportDom -Html $page | Format-Cell | Should -Be $expected
    }

    It 'reads a value quoted with single quotes or holding ">" as one value' {
        $cell = ConvertFrom-ReportDom -Html "<tr data-tenant='t > u'><td data-product-id=""A"" data-value='a > b'>"
        $cell.TenantId | Should -BeExactly 't > u'
        $cell.Value | Should -BeExactly 'a > b'
    }

    It 'ignores cells outside a tenant row' {
        ConvertFrom-ReportDom -Html '<tr><td data-product-id="A" data-value="Enabled"></td></tr>' | Should -BeNullOrEmpty
    }
}

Describe 'Read-HtmlReportInChromium' {
    It 'saves a screenshot and returns the table the browser built' {
        $skip = Get-ChromiumSkipReason
        if ($skip) { Set-ItResult -Skipped -Because $skip; return }
        $file = Join-Path $TestDrive 'report.html'
        [IO.File]::WriteAllText($file, $page, [Text.UTF8Encoding]::new($false))
        $folder = Join-Path $TestDrive 'out'

        $cells = Read-HtmlReportInChromium -Path $file -OutputFolder $folder

        $cells | Format-Cell | Should -Be $expected
        $png = [IO.File]::ReadAllBytes((Join-Path $folder 'report.png'))
        $png[0..7] | Should -Be @(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A)
        Join-Path $folder 'report.dom.html' | Should -Exist
    }
}
