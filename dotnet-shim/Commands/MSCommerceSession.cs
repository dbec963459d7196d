using System;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// One <see cref="CoreClient"/> per runspace, created on first use. The table is keyed by the
    /// <see cref="Runspace"/> object, the one thing that lives exactly as long as a PowerShell
    /// session: each runspace of a process (jobs, ForEach-Object -Parallel, hosted runspaces) gets
    /// its own connection, nothing is stored in a session variable the user can read (the original
    /// kept its token in <c>$token</c>), and a closed runspace frees its native client at once
    /// (a collected one through the client's finalizer).
    /// </summary>
    internal static class MSCommerceSession
    {
        private static readonly ConditionalWeakTable<Runspace, CoreClient> Clients = new ConditionalWeakTable<Runspace, CoreClient>();
        private static readonly object Gate = new object();

        // Hosts that invoke a cmdlet with no default runspace on the thread share one client.
        private static CoreClient? withoutRunspace;

        /// <summary>The client of the runspace running on this thread, created if needed.</summary>
        /// <exception cref="MSCommerceException">The native library cannot be loaded or refuses the configuration.</exception>
        internal static CoreClient GetClient()
        {
            var runspace = Runspace.DefaultRunspace;
            lock (Gate)
            {
                if (runspace == null)
                {
                    return withoutRunspace ??= CoreClient.Create(new ClientOptions());
                }

                if (Clients.TryGetValue(runspace, out var existing))
                {
                    return existing;
                }

                var client = CoreClient.Create(new ClientOptions());
                Clients.Add(runspace, client);
                runspace.StateChanged += OnRunspaceStateChanged;
                return client;
            }
        }

        /// <summary>
        /// Makes <paramref name="client"/> the connection of the runspace running on this thread;
        /// the old client is freed. Callers sign the new client in first, so a failed or cancelled
        /// sign-in leaves the old connection as it was.
        /// </summary>
        internal static void Replace(CoreClient client)
        {
            var runspace = Runspace.DefaultRunspace;
            CoreClient? previous;
            lock (Gate)
            {
                if (runspace == null)
                {
                    previous = withoutRunspace;
                    withoutRunspace = client;
                }
                else
                {
                    if (Clients.TryGetValue(runspace, out previous))
                    {
                        Clients.Remove(runspace);
                    }
                    else
                    {
                        runspace.StateChanged += OnRunspaceStateChanged;
                    }

                    Clients.Add(runspace, client);
                }
            }

            if (!ReferenceEquals(previous, client))
            {
                previous?.Dispose();
            }
        }

        /// <summary>
        /// Forgets the connection of the runspace running on this thread and frees its client;
        /// the next cmdlet starts from a fresh, unconnected client.
        /// </summary>
        internal static void Clear()
        {
            var runspace = Runspace.DefaultRunspace;
            CoreClient? previous;
            lock (Gate)
            {
                if (runspace == null)
                {
                    previous = withoutRunspace;
                    withoutRunspace = null;
                }
                else if (Clients.TryGetValue(runspace, out previous))
                {
                    Clients.Remove(runspace);
                    runspace.StateChanged -= OnRunspaceStateChanged;
                }
            }

            previous?.Dispose();
        }

        private static void OnRunspaceStateChanged(object? sender, RunspaceStateEventArgs e)
        {
            var state = e.RunspaceStateInfo.State;
            if (!(sender is Runspace runspace) || (state != RunspaceState.Closed && state != RunspaceState.Broken))
            {
                return;
            }

            CoreClient? client;
            lock (Gate)
            {
                if (!Clients.TryGetValue(runspace, out client))
                {
                    return;
                }

                Clients.Remove(runspace);
                runspace.StateChanged -= OnRunspaceStateChanged;
            }

            client.Dispose();
        }
    }
}
