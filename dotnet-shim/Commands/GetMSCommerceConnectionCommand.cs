using System.Management.Automation;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Shows this session's connection: account, tenant, service, authority and token expiry.</para>
    /// <para type="description">Tells who Connect-MSCommerce signed in, to which tenant and service, and when the current access token expires (the module refreshes it before then). It never shows a token.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Get-MSCommerceConnection
    /// </code>
    /// <para>Shows the account and tenant this session is connected as.</para>
    /// </example>
    /// <example>
    /// <code>
    /// if (-not (Get-MSCommerceConnection).Connected) { Connect-MSCommerce -DeviceCode }
    /// </code>
    /// <para>Connects only when the session is not connected yet.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MSCommerceConnection", DefaultParameterSetName = DefaultParameterSet)]
    [OutputType(typeof(Connection), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class GetMSCommerceConnectionCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <inheritdoc />
        protected override void ProcessRecord() =>
            WriteResult((client, stop, sink) => client.GetConnection());
    }
}
