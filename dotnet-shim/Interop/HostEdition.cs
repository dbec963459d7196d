using System;
using System.Runtime.InteropServices;

namespace MSCommerce.Interop
{
    /// <summary>
    /// The PowerShell edition the module runs in, told by the runtime: Windows PowerShell 5.1 runs
    /// on .NET Framework (<c>Desktop</c>), PowerShell 7 on .NET (<c>Core</c>). The core words HTTP
    /// failures as that edition's web cmdlets do (docs/abi.md, <c>edition</c>).
    /// </summary>
    internal static class HostEdition
    {
        /// <summary><c>Desktop</c> or <c>Core</c>, as <c>$PSVersionTable.PSEdition</c> spells them.</summary>
        internal static readonly string Current =
            RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase)
                ? "Desktop"
                : "Core";
    }
}
