using System.IO;
using System.Management.Automation;
using MSCommerce.Completion;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Writes a policy's value for every product and offer type of the tenant to a baseline file.</para>
    /// <para type="description">The file is versioned, indented JSON (format MSCommerce.PolicyBaseline, version 1; version 2 with -NewProducts) sorted by id, so it reads and diffs well in source control. Test-MSCommercePolicy reports how the tenant drifted from it; Import-MSCommercePolicy puts the tenant back. With -NewProducts, the file also says what products Microsoft adds later should get: Test-MSCommercePolicy reports such a product while its value differs, and Import-MSCommercePolicy sets it. The file is written whole or not at all.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Export-MSCommercePolicy -PolicyId AllowSelfServicePurchase -Path ./self-service.json
    /// </code>
    /// <para>Keeps today's settings as a baseline.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Export-MSCommercePolicy -PolicyId AllowSelfServicePurchase -Path ./self-service.json -NewProducts Disabled
    /// </code>
    /// <para>Keeps today's settings, and blocks self-service purchase of products added later when the baseline is imported.</para>
    /// </example>
    [Cmdlet(VerbsData.Export, "MSCommercePolicy", DefaultParameterSetName = DefaultParameterSet, SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class ExportMSCommercePolicyCommand : MSCommerceCmdletBase
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
        /// <para type="description">The file to write; an existing file is replaced unless -NoClobber.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = DefaultParameterSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">Leave an existing file alone and report an error instead.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        public SwitchParameter NoClobber { get; set; }

        /// <summary>
        /// <para type="description">The value that products Microsoft adds after this baseline should get: Enabled, Disabled or OnlyTrialsWithoutPaymentMethod. Without it, new products are reported and left as they are.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateSet(CoreDefaults.Enabled, CoreDefaults.Disabled, CoreDefaults.OnlyTrialsWithoutPaymentMethod)]
        public string? NewProducts { get; set; }

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

        /// <summary>
        /// <para type="description">The tenants to work in, by id or domain (one or several): a partner's customers, reached through delegated admin relationships (GDAP) with the account that connected, or the tenants a multi-tenant application is consented in. The connection's own tenant unless given. Several tenants run concurrently; each output object names its tenant (TenantId), and a tenant that cannot be reached is one error aimed at it while the others go on.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateCount(1, 1)]
        [ValidateNotNullOrEmpty]
        public string[]? TenantId { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var path = FileSystemPath(Path);
            if (!ShouldProcess(path, "Export " + PolicyId))
            {
                return;
            }

            var client = Client();
            var written = Run((stop, sink) => client.ExportBaseline(PolicyId, path, NoClobber.IsPresent, Token, stop, sink, NewProducts, TenantId?[0]));
            if (written != null && PassThru.IsPresent)
            {
                WriteObject(new FileInfo(written.Path));
            }
        }
    }
}
