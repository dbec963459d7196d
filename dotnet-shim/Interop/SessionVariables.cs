using System;
using System.Collections;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace MSCommerce.Interop
{
    /// <summary>
    /// The environment variables the native core uses, read with .NET at the time of each call and
    /// passed to it (<c>variables</c> in the client configuration and in every request,
    /// docs/abi.md). The core never reads the process environment: on Linux and macOS,
    /// <c>$env:X = ...</c> in PowerShell changes only .NET's copy of it, which native code does not see.
    /// </summary>
    /// <remarks>
    /// Values may be secrets (a proxy URL can hold a password): they go to the core and nowhere
    /// else, never into a log line or a message.
    /// </remarks>
    internal static class SessionVariables
    {
        /// <summary>Every variable whose name starts with this is passed, whatever the rest of its name.</summary>
        internal const string Prefix = CoreVariables.Prefix;

        /// <summary>The other variables the core uses, generated from rust-core/src/settings.rs (<c>NAMES</c>).</summary>
        internal static readonly string[] Names = CoreVariables.Names;

        private static readonly bool NamesIgnoreCase = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

        /// <summary>The variables the core uses, as this process's .NET environment holds them now; empty ones are left out.</summary>
        internal static Dictionary<string, string> Capture() => Capture(Environment.GetEnvironmentVariables(), NamesIgnoreCase);

        /// <summary>
        /// The variables among <paramref name="environment"/> the core uses. With
        /// <paramref name="ignoreCase"/> (Windows, whose names have no case) a name is matched
        /// without case and passed as the core spells it.
        /// </summary>
        internal static Dictionary<string, string> Capture(IDictionary environment, bool ignoreCase)
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (DictionaryEntry entry in environment)
            {
                if (entry.Key is string name && entry.Value is string value && value.Length > 0)
                {
                    var used = UsedName(name, ignoreCase);
                    if (used != null)
                    {
                        variables[used] = value;
                    }
                }
            }

            return variables;
        }

        /// <summary>The name the core knows <paramref name="name"/> by, or null when it does not use it.</summary>
        internal static string? UsedName(string name, bool ignoreCase)
        {
            var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (name.StartsWith(Prefix, comparison))
            {
                return ignoreCase ? name.ToUpperInvariant() : name;
            }

            foreach (var known in Names)
            {
                if (string.Equals(known, name, comparison))
                {
                    return known;
                }
            }

            return null;
        }
    }
}
