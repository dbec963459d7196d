using System.Management.Automation;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Reports how the tenant differs from a baseline file written by Export-MSCommercePolicy.</para>
    /// <para type="description">Outputs one MSCommerce.PolicyDrift per product or offer type that differs: Changed (the value is not the baseline's), Added (it appeared since the baseline, as new products do; with the baseline's newProducts value as BaselineValue, and reported only while its value differs from it) or Removed (the service no longer lists it). Nothing is output when the tenant matches. With -Quiet, outputs only $true (it matches) or $false.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Test-MSCommercePolicy -Path ./self-service.json
    /// </code>
    /// <para>Lists what changed since the baseline, and the products Microsoft added since.</para>
    /// </example>
    /// <example>
    /// <code>
    /// if (-not (Test-MSCommercePolicy -Path ./self-service.json -Quiet)) { Send-MailMessage ... }
    /// </code>
    /// <para>Alerts when the tenant drifted.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Test-MSCommercePolicy -Path ./baseline.json -TenantId adatum.onmicrosoft.com, litware.onmicrosoft.com | Group-Object TenantId
    /// </code>
    /// <para>Shows how each customer tenant differs from one baseline.</para>
    /// </example>
    [Cmdlet(VerbsDiagnostic.Test, "MSCommercePolicy", DefaultParameterSetName = DefaultParameterSet)]
    [OutputType(typeof(PolicyDrift), typeof(bool), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class TestMSCommercePolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <summary>
        /// <para type="description">The baseline file.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = DefaultParameterSet)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">Output only whether the tenant matches the baseline.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        public SwitchParameter Quiet { get; set; }

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        public string? Token { get; set; }

        /// <summary>
        /// <para type="description">The tenants to work in, by id or domain (one or several): a partner's customers, reached through delegated admin relationships (GDAP) with the account that connected, or the tenants a multi-tenant application is consented in. The connection's own tenant unless given. Several tenants run concurrently; each output object names its tenant (TenantId), and a tenant that cannot be reached is one error aimed at it while the others go on.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateCount(1, 1000)]
        [ValidateNotNullOrEmpty]
        public string[]? TenantId { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var path = FileSystemPath(Path);
            var client = Client();
            if (TenantId != null)
            {
                var results = Run((stop, sink) => client.InTenants(CoreRequest.TestBaseline(path, Token), TenantId, stop, sink));
                if (results == null)
                {
                    return;
                }

                foreach (var error in results.Errors)
                {
                    WriteError(ToErrorRecord(error));
                }

                if (Quiet.IsPresent)
                {
                    // Whether every tenant matches: a tenant that could not be read does not.
                    WriteObject(results.Items.Count == 0 && results.Errors.Count == 0);
                }
                else
                {
                    WriteObject(results.Items, enumerateCollection: true);
                }

                return;
            }

            var drift = Run((stop, sink) => client.TestBaseline(path, Token, stop, sink));
            if (drift == null)
            {
                return;
            }

            if (Quiet.IsPresent)
            {
                WriteObject(drift.Count == 0);
            }
            else
            {
                WriteObject(drift, enumerateCollection: true);
            }
        }
    }
}
