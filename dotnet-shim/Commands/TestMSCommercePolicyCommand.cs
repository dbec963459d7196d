using System.Management.Automation;

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

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var path = FileSystemPath(Path);
            var client = Client();
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
