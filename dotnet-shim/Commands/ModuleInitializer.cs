using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace MSCommerce.Commands
{
    /// <summary>
    /// Prints the original module's <c>MSCommerce module loaded</c> when PowerShell imports the
    /// module. The DLL is the root module: a one-line script root module that called
    /// <c>Write-Host</c> cost a script module's set-up plus the auto-load of
    /// Microsoft.PowerShell.Utility, most of a fresh session's import time. Nothing else happens
    /// here: the native library, its runtime and HTTP client wait for the first cmdlet.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        internal const string Greeting = "MSCommerce module loaded";

        /// <summary>Writes the greeting as Write-Host would.</summary>
        public void OnImport()
        {
            try
            {
                var importer = CurrentCmdlet();
                if (importer != null && SilencesInformation(importer))
                {
                    // PowerShell auto-loads a module with -InformationAction Ignore, yet the
                    // original's Write-Host, a command of its own, still printed then.
                    importer.Host.UI.WriteLine(Greeting);
                    return;
                }

                if (importer != null)
                {
                    // What Write-Host writes: the information stream with the PSHOST tag, which the
                    // host prints and `6>$null` silences.
                    importer.WriteInformation(new HostInformationMessage { Message = Greeting }, new[] { "PSHOST" });
                    return;
                }
            }
            catch (Exception e) when (IsEngineFailure(e))
            {
                // The engine changed underneath: the host still shows the line.
            }

            try
            {
                var host = Runspace.DefaultRunspace?.SessionStateProxy.GetVariable("Host") as System.Management.Automation.Host.PSHost;
                host?.UI.WriteLine(Greeting);
            }
            catch (Exception e) when (IsEngineFailure(e))
            {
                // The greeting is not worth failing an import over.
            }
        }

        private static bool SilencesInformation(PSCmdlet importer) =>
            importer.MyInvocation.BoundParameters.TryGetValue("InformationAction", out var action)
            && action is ActionPreference preference
            && (preference == ActionPreference.Ignore || preference == ActionPreference.SilentlyContinue);

        private static bool IsEngineFailure(Exception e) =>
            e is TargetInvocationException || e is AmbiguousMatchException || e is MemberAccessException || e is InvalidOperationException || e is NotSupportedException;

        /// <summary>
        /// The command running on this thread, which during <see cref="OnImport"/> is Import-Module.
        /// PowerShell passes the initializer no context, and a module assembly's initializer has no
        /// public way to the importing command's streams; its engine has kept these members since
        /// Windows PowerShell 2.0 (they are looked up by name, so a rename only loses the greeting).
        /// </summary>
        private static PSCmdlet? CurrentCmdlet()
        {
            const BindingFlags Any = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
            var runspace = Runspace.DefaultRunspace;
            var context = runspace?.GetType().GetProperty("ExecutionContext", Any)?.GetValue(runspace, null);
            var processor = context?.GetType().GetProperty("CurrentCommandProcessor", Any)?.GetValue(context, null);
            return processor?.GetType().GetProperty("Command", Any)?.GetValue(processor, null) as PSCmdlet;
        }
    }
}
