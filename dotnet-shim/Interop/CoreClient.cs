using System;
using System.Collections.Generic;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Serialization;
using System.Threading;
using System.Xml.Linq;

namespace MSCommerce.Interop
{
    /// <summary>
    /// One native client (one connection, usually one runspace's) of the mscommerce-core library.
    /// Every call blocks the calling thread until the request ends, delivering the request's log
    /// lines and progress to an <see cref="IInvocationSink"/> on that thread; failures throw
    /// <see cref="MSCommerceException"/>. Knows nothing of PowerShell, so plain .NET hosts can use it.
    /// </summary>
    public sealed class CoreClient : IDisposable
    {
        private readonly NativeApi api;
        private readonly ClientHandle handle;

        // The key id of the certificate this client signs in with, while it may renew its token.
        private ulong? signingKey;

        private CoreClient(NativeApi api, ClientHandle handle, string serviceUri)
        {
            this.api = api;
            this.handle = handle;
            ServiceUri = serviceUri;
        }

        /// <summary>The service URI as the native library normalised it.</summary>
        public string ServiceUri { get; }

        /// <summary>The User-Agent the module sends: <c>MSCommerce/&lt;version&gt;</c>.</summary>
        public static string UserAgent
        {
            get
            {
                var assembly = typeof(CoreClient).Assembly;
                var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                    ?? assembly.GetName().Version?.ToString(3)
                    ?? "0.0.0";
                var metadata = version.IndexOf('+');
                return "MSCommerce/" + (metadata < 0 ? version : version.Substring(0, metadata));
            }
        }

        /// <summary>
        /// Loads the native library (once per process) and creates a client for
        /// <paramref name="serviceUri"/> (null: $env:MSCOMMERCE_SERVICE_URI, then the public
        /// service), with <paramref name="accessToken"/> as its credential if given.
        /// </summary>
        /// <exception cref="MSCommerceException">The library cannot be loaded, or refuses the configuration.</exception>
        public static CoreClient Create(string? serviceUri, string? accessToken = null) =>
            Create(new ClientOptions { ServiceUri = serviceUri, AccessToken = accessToken });

        /// <summary>Loads the native library (once per process) and creates a client as <paramref name="options"/> say.</summary>
        /// <exception cref="MSCommerceException">The library cannot be loaded, or refuses the configuration.</exception>
        public static CoreClient Create(ClientOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            var api = LoadApi();
            var config = Json.Serialize(new ClientConfigWire
            {
                Environment = NullIfEmpty(options.Environment),
                ServiceUri = NullIfEmpty(options.ServiceUri),
                AuthorityUri = NullIfEmpty(options.AuthorityUri),
                AccessToken = NullIfEmpty(options.AccessToken),
                UserAgent = UserAgent,
                Variables = SessionVariables.Capture(),
                Edition = NullIfEmpty(options.Edition) ?? HostEdition.Current,
            });

            var handle = new ClientHandle(api);
            var buffer = Utf8.Allocate(config, out var length);
            int status;
            var outJson = IntPtr.Zero;
            try
            {
                status = api.ClientNew(buffer, out var id, out outJson);
                handle.Adopt(id);
            }
            finally
            {
                Utf8.Free(buffer, length);
            }

            try
            {
                var info = Unwrap<ClientInfoWire>(status, api.TakeString(outJson));
                if (handle.IsInvalid)
                {
                    throw new MSCommerceException(ShimErrorCodes.InvalidResponse, "InvalidData", true, "The native library reported success but returned no client handle.");
                }

                return new CoreClient(api, handle, info.ServiceUri ?? string.Empty);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }

        /// <summary>Lists the policies (<c>getPolicies</c>).</summary>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines and progress on this thread.</param>
        public IReadOnlyList<Policy> GetPolicies(string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            return InvokeItems<Policy>(CoreRequest.GetPolicies(token), cancellationToken, sink, item => true, WireMapping.ToPolicies);
        }

        /// <summary>Gets one policy (<c>getPolicy</c>).</summary>
        /// <param name="policyId">The policy's id, such as <c>AllowSelfServicePurchase</c>.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines and progress on this thread.</param>
        public Policy GetPolicy(string policyId, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            return WireMapping.ToPolicy(InvokeData(CoreRequest.GetPolicy(policyId, token), cancellationToken, sink));
        }

        /// <summary>
        /// Lists a policy's values per product (<see cref="ProductPolicy"/>, scope <c>product</c>, the
        /// default) or per other scope such as offer types (<see cref="ScopePolicy"/>).
        /// </summary>
        /// <param name="policyId">The policy's id, such as <c>AllowSelfServicePurchase</c>.</param>
        /// <param name="scope">The scope; null or empty for <c>product</c>.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines and progress on this thread.</param>
        public IReadOnlyList<object> GetProductPolicies(string policyId, string? scope = null, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            return InvokeItems<object>(CoreRequest.GetProductPolicies(policyId, scope, token), cancellationToken, sink, item => item is ProductPolicy || item is ScopePolicy, WireMapping.ToProductPolicies);
        }

        /// <summary>Gets one product or offer type of a policy (<c>getProductPolicy</c>).</summary>
        /// <param name="policyId">The policy's id, such as <c>AllowSelfServicePurchase</c>.</param>
        /// <param name="item">The product or offer type.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines and progress on this thread.</param>
        public object GetProductPolicy(string policyId, PolicyItem item, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            return WireMapping.ToProductOrScopePolicy(InvokeData(CoreRequest.GetProductPolicy(policyId, item, token), cancellationToken, sink));
        }

        /// <summary>Sets one product's or offer type's value (<c>updateProductPolicy</c>) and returns the updated item.</summary>
        /// <param name="policyId">The policy's id, such as <c>AllowSelfServicePurchase</c>.</param>
        /// <param name="item">The product or offer type.</param>
        /// <param name="change">The new value.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines and progress on this thread.</param>
        public object UpdateProductPolicy(string policyId, PolicyItem item, PolicyChange change, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            return WireMapping.ToProductOrScopePolicy(InvokeData(CoreRequest.UpdateProductPolicy(policyId, item, change, token), cancellationToken, sink));
        }

        /// <summary>
        /// Sets many products or offer types to one value (<c>updateProductPolicies</c>): the core
        /// runs at most <paramref name="throttleLimit"/> updates at once (fewer while the service is
        /// slow or throttles) and reports progress to
        /// <paramref name="sink"/>. Returns one outcome per target, in the order given; only a
        /// missing connection (or a cancel) fails the whole call.
        /// </summary>
        /// <param name="targets">The items to update.</param>
        /// <param name="change">The new value.</param>
        /// <param name="throttleLimit">How many updates run at once; null for the core's default (64).</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the updates not yet done.</param>
        /// <param name="sink">Receives the request's log lines and progress on this thread.</param>
        public IReadOnlyList<UpdateOutcome> UpdateProductPolicies(IEnumerable<PolicyTarget> targets, PolicyChange change, int? throttleLimit = null, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            return Outcomes(InvokeData(CoreRequest.UpdateProductPolicies(targets, change, throttleLimit, token), cancellationToken, sink));
        }

        private static IReadOnlyList<UpdateOutcome> Outcomes(XElement results)
        {
            var outcomes = new List<UpdateOutcome>();
            foreach (var element in WireMapping.Elements(results))
            {
                var result = Read<BulkResultWire>(element);
                outcomes.Add(result.Ok
                    ? new UpdateOutcome(result.Id ?? string.Empty, WireMapping.ToProductOrScopePolicy(element.Element("item")), null)
                    : new UpdateOutcome(result.Id ?? string.Empty, null, ToException(result.Error)));
            }

            return outcomes;
        }

        /// <summary>
        /// Sets the items of a plan, each to its own value (<c>updateProductPolicies</c>), at most
        /// <paramref name="throttleLimit"/> at once. Returns one outcome per item, in order.
        /// </summary>
        /// <param name="items">The approved items of a plan.</param>
        /// <param name="throttleLimit">How many updates run at once; null for the core's default.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the updates not yet done.</param>
        /// <param name="sink">Receives the request's log lines and progress on this thread.</param>
        public IReadOnlyList<UpdateOutcome> UpdateProductPolicies(IReadOnlyCollection<PlannedUpdate> items, int? throttleLimit = null, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            var updates = new List<BulkTargetWire>(items.Count);
            foreach (var item in items)
            {
                updates.Add(item.Update);
            }

            return Outcomes(InvokeData(CoreRequest.UpdateProductPolicies(updates.ToArray(), throttleLimit, token), cancellationToken, sink));
        }

        /// <summary>
        /// What an update would change (<c>planUpdate</c>): the items by <paramref name="ids"/>
        /// (products, or offer types with <paramref name="scope"/> <c>OfferType</c>; nothing is
        /// sent), or the items <paramref name="names"/> or <paramref name="all"/> pick, less
        /// <paramref name="exclude"/>, each with how -WhatIf shows it.
        /// </summary>
        /// <param name="policyId">The policy's id.</param>
        /// <param name="scope"><c>Product</c> (null or empty) or <c>OfferType</c>.</param>
        /// <param name="ids">Product ids or offer types, as given.</param>
        /// <param name="names">Product names or patterns.</param>
        /// <param name="all">Every item of the scope.</param>
        /// <param name="exclude">With <paramref name="all"/>: ids, names or patterns to leave out.</param>
        /// <param name="change">The new value.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines on this thread.</param>
        /// <param name="tenants">The tenants to plan in (<c>-TenantId</c>); null for the connection's own.</param>
        public UpdatePlan PlanUpdate(string policyId, string? scope, string[]? ids, string[]? names, bool all, string[]? exclude, PolicyChange change, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null, string[]? tenants = null) =>
            ToPlan(Invoke<UpdatePlanWire>(InTenantsOrOwn(CoreRequest.PlanUpdate(policyId, scope, ids, names, all, exclude, change, token), tenants), cancellationToken, sink));

        /// <summary>
        /// What importing a baseline file would change (<c>planImport</c>): each item whose value
        /// differs, set back to the file's. Warnings (items added since) and verbose lines (items
        /// gone) reach <paramref name="sink"/>.
        /// </summary>
        /// <param name="path">The file, as an absolute file-system path.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines on this thread.</param>
        /// <param name="tenants">The tenants to plan in (<c>-TenantId</c>); null for the connection's own.</param>
        public UpdatePlan PlanImport(string path, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null, string[]? tenants = null) =>
            ToPlan(Invoke<UpdatePlanWire>(InTenantsOrOwn(CoreRequest.PlanImport(path, token), tenants), cancellationToken, sink));

        private static CoreRequest InTenantsOrOwn(CoreRequest request, string[]? tenants)
        {
            if (tenants != null && tenants.Length > 0)
            {
                request.Tenants = tenants;
            }

            return request;
        }

        /// <summary>
        /// Picks a policy's items (<c>selectItems</c>): every item of <paramref name="scope"/>
        /// (<paramref name="all"/>) or the products whose names match <paramref name="names"/>
        /// (wildcards allowed), less those whose id or name matches <paramref name="exclude"/>.
        /// </summary>
        /// <param name="policyId">The policy's id.</param>
        /// <param name="scope"><c>Product</c> (null or empty) or <c>OfferType</c>.</param>
        /// <param name="all">Every item of the scope.</param>
        /// <param name="names">Product names or patterns.</param>
        /// <param name="exclude">Ids, names or patterns to leave out.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines on this thread.</param>
        public ItemSelection SelectItems(string policyId, string? scope, bool all, string[]? names, string[]? exclude, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            var data = InvokeData(CoreRequest.SelectItems(policyId, scope, all, names, exclude, token), cancellationToken, sink);
            var wire = Read<SelectedItemsWire>(data);
            var errors = new List<MSCommerceException>();
            foreach (var error in wire.Errors ?? Array.Empty<ErrorReplyWire>())
            {
                errors.Add(ToException(error));
            }

            return new ItemSelection(WireMapping.ToProductPolicies(data.Element("items")), errors);
        }

        /// <summary>Writes the baseline file of a policy (<c>exportBaseline</c>).</summary>
        /// <param name="policyId">The policy's id.</param>
        /// <param name="path">The file, as an absolute file-system path.</param>
        /// <param name="noClobber">Refuse to replace an existing file.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines on this thread.</param>
        /// <param name="newProducts">The value of products added after the baseline (a version 2 file); null for none.</param>
        /// <param name="tenant">The tenant to export from (<c>-TenantId</c>); null for the connection's own.</param>
        public BaselineExport ExportBaseline(string policyId, string path, bool noClobber = false, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null, string? newProducts = null, string? tenant = null)
        {
            var request = InTenantsOrOwn(CoreRequest.ExportBaseline(policyId, path, noClobber, token, newProducts), tenant == null ? null : new[] { tenant });
            var wire = Invoke<BaselineExportWire>(request, cancellationToken, sink);
            return new BaselineExport(wire.Path ?? path, wire.PolicyId ?? policyId, wire.Products, wire.OfferTypes);
        }

        /// <summary>
        /// Writes the HTML report of a policy over tenants (<c>exportReport</c>): the file written
        /// and one error per tenant that could not be read (the page shows it as a row).
        /// </summary>
        /// <param name="policyId">The policy's id.</param>
        /// <param name="path">The page, as an absolute file-system path.</param>
        /// <param name="baselinePath">A baseline file to show drift against, absolute; null for none.</param>
        /// <param name="tenants">The tenants (rows); null for the connection's own.</param>
        /// <param name="noClobber">Refuse to replace an existing file.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines on this thread.</param>
        internal ReportExport ExportReport(string policyId, string path, string? baselinePath, string[]? tenants, bool noClobber, string? token, CancellationToken cancellationToken, IInvocationSink? sink)
        {
            var request = InTenantsOrOwn(
                new ExportReportRequest { Token = string.IsNullOrEmpty(token) ? null : token, PolicyId = policyId, Path = path, BaselinePath = baselinePath, NoClobber = noClobber ? true : (bool?)null },
                tenants);
            var wire = Invoke<PolicyReportWire>(request, cancellationToken, sink);
            var errors = new List<MSCommerceException>();
            foreach (var error in wire.Errors ?? Array.Empty<ErrorReplyWire>())
            {
                errors.Add(ToException(error));
            }

            return new ReportExport(wire.Path ?? path, errors);
        }

        /// <summary>How the tenant differs from a baseline file (<c>testBaseline</c>).</summary>
        /// <param name="path">The file, as an absolute file-system path.</param>
        /// <param name="token">An access token used instead of the client's credential; null or empty for none.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives the request's log lines on this thread.</param>
        public IReadOnlyList<PolicyDrift> TestBaseline(string path, string? token = null, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            return InvokeItems<PolicyDrift>(CoreRequest.TestBaseline(path, token), cancellationToken, sink, item => true, WireMapping.ToDrift);
        }

        /// <summary>
        /// Tab-completion candidates (<c>complete</c>) for <paramref name="kind"/>: <c>policyId</c>,
        /// <c>productId</c>, <c>productName</c> or <c>offerType</c>. Never fails: no connection or
        /// a slow service give no candidates.
        /// </summary>
        /// <param name="kind">Which parameter is completed.</param>
        /// <param name="policyId">The policy of the command line, if bound.</param>
        /// <param name="word">What has been typed.</param>
        /// <param name="token">The command line's -Token, if any.</param>
        public IReadOnlyList<CompletionCandidate> Complete(string kind, string? policyId, string word, string? token = null)
        {
            CandidateWire[] wire;
            try
            {
                wire = Invoke<CandidateWire[]>(CoreRequest.Complete(kind, policyId, word ?? string.Empty, token), CancellationToken.None);
            }
            catch (MSCommerceException)
            {
                return Array.Empty<CompletionCandidate>();
            }

            var candidates = new List<CompletionCandidate>(wire.Length);
            foreach (var candidate in wire)
            {
                if (!string.IsNullOrEmpty(candidate.Value))
                {
                    candidates.Add(new CompletionCandidate(candidate.Value!, candidate.Tooltip ?? candidate.Value!));
                }
            }

            return candidates;
        }

        /// <summary>
        /// Signs in (<c>connect</c>): silently from the token cache when it holds a fitting
        /// account, else through the browser or with a device code. Prompts (the device code
        /// message, the page to open when no browser starts) reach <paramref name="sink"/> as
        /// warnings. Blocks until signed in, failed, timed out or cancelled; the client then holds
        /// the session and refreshes its token before it expires.
        /// </summary>
        /// <param name="options">How to sign in.</param>
        /// <param name="cancellationToken">Cancels the sign-in.</param>
        /// <param name="sink">Receives the prompts and log lines on this thread.</param>
        public Connection Connect(SignInOptions options, CancellationToken cancellationToken = default, IInvocationSink? sink = null)
        {
            if (options == null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            // The certificate's key stays with the signer while this client may renew its token:
            // the previous one until the new sign-in succeeds (a failed one keeps the session).
            RawCertificateWire? certificate = null;
            if (options.Certificate != null)
            {
                certificate = CertificateSigner.Add(options.Certificate);
            }

            Connection connection;
            try
            {
                connection = Connection.FromWire(Invoke<ConnectionWire>(CoreRequest.Connect(options, certificate), cancellationToken, sink));
            }
            catch
            {
                if (certificate != null)
                {
                    CertificateSigner.Remove(certificate.KeyId);
                }

                throw;
            }

            ForgetKey();
            signingKey = certificate?.KeyId;
            return connection;
        }

        /// <summary>Ends the session (<c>disconnect</c>); with <paramref name="forget"/>, removes its account from the token cache. Returns whether an account was removed.</summary>
        /// <param name="forget">Also forget the cached account.</param>
        /// <param name="cancellationToken">Cancels the request.</param>
        /// <param name="sink">Receives log lines on this thread.</param>
        public bool Disconnect(bool forget, CancellationToken cancellationToken = default, IInvocationSink? sink = null) =>
            Invoke<DisconnectedWire>(CoreRequest.Disconnect(forget), cancellationToken, sink).Forgotten;

        /// <summary>Who is connected, where, until when (<c>getConnection</c>); never a token.</summary>
        public Connection GetConnection() => Connection.FromWire(Invoke<ConnectionWire>(CoreRequest.GetConnection(), CancellationToken.None));

        private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

        private static UpdatePlan ToPlan(UpdatePlanWire wire)
        {
            var items = new List<PlannedUpdate>();
            foreach (var item in wire.Items ?? Array.Empty<PlannedUpdateWire>())
            {
                if (item.Update == null)
                {
                    throw new MSCommerceException(ShimErrorCodes.InvalidResponse, "InvalidData", true, "The native library returned a plan item without its update: the module's files come from different builds.");
                }

                items.Add(new PlannedUpdate(item.Update, item.Target ?? string.Empty, item.Action ?? string.Empty));
            }

            var errors = new List<MSCommerceException>();
            foreach (var error in wire.Errors ?? Array.Empty<ErrorReplyWire>())
            {
                errors.Add(ToException(error));
            }

            return new UpdatePlan(items, errors);
        }

        /// <summary>Frees the native client; requests in flight finish first.</summary>
        public void Dispose()
        {
            handle.Dispose();
            ForgetKey();
        }

        private void ForgetKey()
        {
            if (signingKey is ulong keyId)
            {
                CertificateSigner.Remove(keyId);
                signingKey = null;
            }
        }

        /// <summary>
        /// Runs <paramref name="request"/> in each of <paramref name="tenants"/> (ids or domains):
        /// the core gets a token for each tenant and runs them concurrently, and answers every
        /// tenant's objects (each with its <c>TenantId</c>) and one error per tenant that failed.
        /// </summary>
        internal TenantResults InTenants(CoreRequest request, string[] tenants, CancellationToken cancellationToken, IInvocationSink? sink = null)
        {
            request.Tenants = tenants;
            var data = InvokeData(request, cancellationToken, sink);
            var wire = Read<TenantOutputWire>(data);
            var errors = new List<MSCommerceException>();
            foreach (var error in wire.Errors ?? Array.Empty<ErrorReplyWire>())
            {
                errors.Add(ToException(error));
            }

            return new TenantResults(WireMapping.ToOutputItems(data.Element("items")), errors);
        }

        /// <summary>Runs <paramref name="request"/> and returns the envelope's data as <typeparamref name="T"/>.</summary>
        internal T Invoke<T>(CoreRequest request, CancellationToken cancellationToken, IInvocationSink? sink = null) =>
            Read<T>(InvokeData(request, cancellationToken, sink));

        /// <summary>Runs <paramref name="request"/> and returns the envelope's data as parsed JSON, for replies that hold output items.</summary>
        internal XElement InvokeData(CoreRequest request, CancellationToken cancellationToken, IInvocationSink? sink = null)
        {
            var json = InvokeJson(request, cancellationToken, sink, out var status);
            return UnwrapData(status, json);
        }

        /// <summary>
        /// Runs a request whose reply is a list of output items: read in one pass into the model
        /// objects (<see cref="WireReader"/>) when it is a list of the <paramref name="expected"/>
        /// kinds, else the general way (<paramref name="general"/> on the envelope's data), which
        /// reports whatever is wrong with it.
        /// </summary>
        internal IReadOnlyList<T> InvokeItems<T>(CoreRequest request, CancellationToken cancellationToken, IInvocationSink? sink, Predicate<object> expected, Func<XElement, IReadOnlyList<T>> general)
            where T : class
        {
            var json = InvokeJson(request, cancellationToken, sink, out var status);
            if (WireReader.TryReadItems<T>(status, json, expected, out var items))
            {
                return items;
            }

            return general(UnwrapData(status, json));
        }

        /// <summary>
        /// Runs <paramref name="request"/> through <c>mc_invoke</c> on a worker thread and returns the
        /// raw envelope. This thread pumps the request's events into <paramref name="sink"/> meanwhile;
        /// <paramref name="cancellationToken"/> fires the native cancellation token.
        /// </summary>
        internal string? InvokeJson(CoreRequest request, CancellationToken cancellationToken, IInvocationSink? sink, out int status)
        {
            var channel = InvocationRouter.Open();
            var cancel = 0UL;
            var addedRef = false;
            try
            {
                request.OperationId = channel.OperationId;
                // Read now, not when the client was made: `$env:` set since then counts.
                request.Variables = SessionVariables.Capture();
                CheckStatus(api.CancelNew(out cancel), "mc_cancel_new");
                handle.DangerousAddRef(ref addedRef);

                var call = new NativeCall(api, handle.Id, Json.Serialize(request), cancel, channel);
                var worker = new Thread(call.Run) { IsBackground = true, Name = "MSCommerce request " + channel.OperationId };
                var cancelToken = cancel;
                using (cancellationToken.Register(() => api.CancelCancel(cancelToken)))
                {
                    worker.Start();
                    try
                    {
                        channel.Pump(sink);
                    }
                    finally
                    {
                        // The sink threw (the pipeline is stopping): stop the request, then wait for it,
                        // so nothing native outlives this call.
                        if (!channel.IsCompleted)
                        {
                            api.CancelCancel(cancel);
                        }

                        worker.Join();
                    }
                }

                call.ThrowIfFailed();
                status = call.Status;
                return call.Json;
            }
            catch (ObjectDisposedException e)
            {
                throw new MSCommerceException(ShimErrorCodes.InvalidHandle, "InvalidOperation", true, "The MSCommerce client has been disposed.", innerException: e);
            }
            finally
            {
                InvocationRouter.Close(channel);
                if (addedRef)
                {
                    handle.DangerousRelease();
                }

                if (cancel != 0)
                {
                    api.CancelFree(cancel);
                }
            }
        }

        /// <summary>Turns a status and its envelope into the data, or the envelope's error into an exception.</summary>
        internal static T Unwrap<T>(int status, string? json) => Read<T>(UnwrapData(status, json));

        /// <summary>Reads the data of an envelope (or a part of it) as <typeparamref name="T"/>.</summary>
        internal static T Read<T>(XElement data)
        {
            try
            {
                return Json.Deserialize<T>(data);
            }
            catch (SerializationException e)
            {
                throw InvalidReply(e);
            }
        }

        /// <summary>The data of a status and its envelope, or the envelope's error as an exception.</summary>
        internal static XElement UnwrapData(int status, string? json)
        {
            if (json == null)
            {
                throw FromStatus(status, "The native library returned status " + status + " and no reply.");
            }

            Envelope envelope;
            XElement? data;
            try
            {
                var root = Json.Parse(json);
                envelope = Json.Deserialize<Envelope>(root);
                data = root.Element("data");
            }
            catch (SerializationException e)
            {
                throw InvalidReply(e);
            }

            if (envelope == null)
            {
                throw new MSCommerceException(ShimErrorCodes.InvalidResponse, "InvalidData", true, "The native library returned an empty reply.");
            }

            if (envelope.Ok && status == NativeMethods.Status.Ok)
            {
                if (data == null || (string?)data.Attribute("type") == "null")
                {
                    throw new MSCommerceException(ShimErrorCodes.InvalidResponse, "InvalidData", true, "The native library reported success without data.");
                }

                return data;
            }

            var error = envelope.Error;
            if (error == null)
            {
                throw FromStatus(status == NativeMethods.Status.Ok ? NativeMethods.Status.Internal : status, "The native library returned status " + status + " without an error.");
            }

            throw ToException(error);
        }

        /// <summary>The exception of an envelope's (or a bulk item's) error.</summary>
        internal static MSCommerceException ToException(ErrorReplyWire? error)
        {
            if (error == null)
            {
                return new MSCommerceException(ShimErrorCodes.InvalidResponse, "InvalidData", false, "The native library reported a failure without an error.");
            }

            return new MSCommerceException(
                string.IsNullOrEmpty(error.Code) ? ShimErrorCodes.Internal : error.Code!,
                string.IsNullOrEmpty(error.Category) ? "NotSpecified" : error.Category!,
                error.Terminating,
                string.IsNullOrEmpty(error.Message) ? "The operation failed (" + (error.Code ?? "no code") + ")." : error.Message!,
                error.Target,
                error.CorrelationId,
                error.HttpStatus,
                error.Details);
        }

        private static MSCommerceException InvalidReply(SerializationException e) =>
            new MSCommerceException(ShimErrorCodes.InvalidResponse, "InvalidData", true, "The native library returned a reply the module cannot read: " + e.Message, innerException: e);

        private static MSCommerceException FromStatus(int status, string message) => status switch
        {
            NativeMethods.Status.InvalidArgument => new MSCommerceException(ShimErrorCodes.InvalidArgument, "InvalidArgument", true, message),
            NativeMethods.Status.InvalidHandle => new MSCommerceException(ShimErrorCodes.InvalidHandle, "InvalidOperation", true, message),
            NativeMethods.Status.Cancelled => new MSCommerceException(ShimErrorCodes.Cancelled, "OperationStopped", true, message),
            _ => new MSCommerceException(ShimErrorCodes.Internal, "NotSpecified", true, message),
        };

        private static void CheckStatus(int status, string export)
        {
            if (status != NativeMethods.Status.Ok)
            {
                throw FromStatus(status, export + " failed with status " + status + ".");
            }
        }

        private static NativeApi LoadApi()
        {
            NativeApi api;
            try
            {
                api = NativeLibraryLoader.Api;
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException || e is PlatformNotSupportedException
                || e is BadImageFormatException || e is InvalidOperationException)
            {
                throw new MSCommerceException(ShimErrorCodes.NativeLibraryUnavailable, "NotInstalled", true, e.Message, innerException: e);
            }

            InvocationRouter.EnsureRegistered(api);
            return api;
        }

        /// <summary>The native client id, freed by <c>mc_client_free</c> exactly once.</summary>
        private sealed class ClientHandle : SafeHandle
        {
            private readonly NativeApi api;

            internal ClientHandle(NativeApi api)
                : base(IntPtr.Zero, ownsHandle: true) => this.api = api;

            public override bool IsInvalid => handle == IntPtr.Zero;

            // Ids are u64; every platform the module supports is 64-bit, so IntPtr holds them whole.
            internal ulong Id => unchecked((ulong)handle.ToInt64());

            internal void Adopt(ulong id) => SetHandle(new IntPtr(unchecked((long)id)));

            protected override bool ReleaseHandle()
            {
                var status = api.ClientFree(Id);
                return status == NativeMethods.Status.Ok || status == NativeMethods.Status.InvalidHandle;
            }
        }

        /// <summary>One <c>mc_invoke</c> call, run on its own thread.</summary>
        private sealed class NativeCall
        {
            private readonly NativeApi api;
            private readonly ulong client;
            private readonly string request;
            private readonly ulong cancel;
            private readonly InvocationChannel channel;
            private Exception? failure;

            internal NativeCall(NativeApi api, ulong client, string request, ulong cancel, InvocationChannel channel)
            {
                this.api = api;
                this.client = client;
                this.request = request;
                this.cancel = cancel;
                this.channel = channel;
            }

            internal int Status { get; private set; }

            internal string? Json { get; private set; }

            internal void Run()
            {
                try
                {
                    var buffer = Utf8.Allocate(request, out var length);
                    try
                    {
                        Status = api.Invoke(client, buffer, cancel, out var outJson);
                        Json = api.TakeString(outJson);
                    }
                    finally
                    {
                        Utf8.Free(buffer, length);
                    }
                }
                catch (Exception e)
                {
                    failure = e;
                }
                finally
                {
                    channel.Complete();
                }
            }

            internal void ThrowIfFailed()
            {
                if (failure != null)
                {
                    throw new MSCommerceException(ShimErrorCodes.Internal, "NotSpecified", true, "Calling the native library failed: " + failure.Message, innerException: failure);
                }
            }
        }
    }
}
