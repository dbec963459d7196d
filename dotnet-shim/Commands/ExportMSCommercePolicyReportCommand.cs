using System.IO;
using System.Management.Automation;
using MSCommerce.Completion;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Writes one HTML page of a policy's value for every product in one or many tenants, with drift from a baseline highlighted.</para>
    /// <para type="description">Reads the policy's product values in each tenant of -TenantId (the connection's own tenant without it), several tenants at a time, and writes a single self-contained page: tenants as rows, products as columns, each cell the value. With -BaselinePath, each cell that differs from the baseline file (Export-MSCommercePolicy) is highlighted and shows the value the baseline wants, as Test-MSCommercePolicy reports it. The page has no scripts or styles from elsewhere, so it opens offline and can be mailed or archived; it names the policy, when it was written and the module version. A tenant that cannot be read is a row with the reason and one non-terminating error; the page is still written. The file is written whole or not at all.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Export-MSCommercePolicyReport -PolicyId AllowSelfServicePurchase -Path ./self-service.html
    /// </code>
    /// <para>One row: the connected tenant's products and their values.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Export-MSCommercePolicyReport -PolicyId AllowSelfServicePurchase -TenantId (Get-Content ./customers.txt) -BaselinePath ./baseline.json -Path ./customers.html
    /// </code>
    /// <para>A partner's report over its customers' tenants, with every value that differs from the baseline highlighted.</para>
    /// </example>
    [Cmdlet(VerbsData.Export, "MSCommercePolicyReport", DefaultParameterSetName = DefaultParameterSet, SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class ExportMSCommercePolicyReportCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <summary>
        /// <para type="description">The policy's id, such as AllowSelfServicePurchase.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = DefaultParameterSet)]
        [ArgumentCompleter(typeof(PolicyIdCompleter))]
        public string PolicyId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The HTML file to write; an existing file is replaced unless -NoClobber.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = DefaultParameterSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">A baseline file (Export-MSCommercePolicy): cells whose value differs from it are highlighted.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateNotNullOrEmpty]
        public string? BaselinePath { get; set; }

        /// <summary>
        /// <para type="description">The tenants to report on, by id or domain: a partner's customers (through delegated admin relationships) or the tenants a multi-tenant application is consented in. The connection's own tenant unless given.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateCount(1, 1000)]
        [ValidateNotNullOrEmpty]
        public string[]? TenantId { get; set; }

        /// <summary>
        /// <para type="description">Leave an existing file alone and report an error instead.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        public SwitchParameter NoClobber { get; set; }

        /// <summary>
        /// <para type="description">Output the file written.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        public SwitchParameter PassThru { get; set; }

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        public string? Token { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var path = FileSystemPath(Path);
            var baseline = BaselinePath == null ? null : FileSystemPath(BaselinePath);
            if (!ShouldProcess(path, "Export the " + PolicyId + " report"))
            {
                return;
            }

            var client = Client();
            var written = Run((stop, sink) => client.ExportReport(PolicyId, path, baseline, TenantId, NoClobber.IsPresent, Token, stop, sink));
            if (written == null)
            {
                return;
            }

            foreach (var error in written.Errors)
            {
                WriteError(ToErrorRecord(error));
            }

            if (PassThru.IsPresent)
            {
                WriteObject(new FileInfo(written.Path));
            }
        }
    }
}
