using System.Management.Automation;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Ends this session's connection to the licensing service.</para>
    /// <para type="description">Ends the connection of the current runspace: the other MSCommerce cmdlets then need Connect-MSCommerce again or -Token. The sign-in kept for later sessions stays, so the next Connect-MSCommerce reconnects silently; -ForgetAccount removes it too (from the OS secret store, or the fallback file), so the next Connect-MSCommerce prompts again.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Disconnect-MSCommerce
    /// </code>
    /// <para>Ends this session's connection; the kept sign-in stays for later sessions.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Disconnect-MSCommerce -ForgetAccount
    /// </code>
    /// <para>Ends the connection and removes the kept sign-in, for example before handing over a shared admin workstation.</para>
    /// </example>
    [Cmdlet(VerbsCommunications.Disconnect, "MSCommerce", DefaultParameterSetName = DefaultParameterSet)]
    [OutputType(typeof(void))]
    public sealed class DisconnectMSCommerceCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <summary>
        /// <para type="description">Also removes the kept sign-in of the session's account (or, when not connected, of the default client's account at the default authority), so later sessions must sign in again.</para>
        /// </summary>
        [Parameter]
        public SwitchParameter ForgetAccount { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            Interop.CoreClient client;
            try
            {
                client = MSCommerceSession.GetClient();
            }
            catch (MSCommerceException e)
            {
                ThrowTerminatingError(ToErrorRecord(e));
                return;
            }

            var forgotten = Run((stop, sink) => (object)client.Disconnect(ForgetAccount.IsPresent, stop, sink));
            if (forgotten == null)
            {
                return;
            }

            // The runspace's client goes even if it held only an -AccessToken: the next cmdlet
            // starts unconnected.
            MSCommerceSession.Clear();
            if (ForgetAccount.IsPresent)
            {
                WriteVerbose((bool)forgotten ? "The kept sign-in was removed." : "There was no kept sign-in to remove.");
            }
        }
    }
}
