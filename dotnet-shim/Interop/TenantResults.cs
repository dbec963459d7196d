using System.Collections.Generic;

namespace MSCommerce.Interop
{
    /// <summary>
    /// What a request run in several tenants (<c>-TenantId</c>) came to: every tenant's output
    /// objects, each naming its tenant (<c>TenantId</c>), and one error per tenant that could not
    /// be served, aimed at that tenant.
    /// </summary>
    public sealed class TenantResults
    {
        internal TenantResults(IReadOnlyList<object> items, IReadOnlyList<MSCommerceException> errors)
        {
            Items = items;
            Errors = errors;
        }

        /// <summary>The objects, tenant after tenant in the order the tenants were given.</summary>
        public IReadOnlyList<object> Items { get; }

        /// <summary>One non-terminating error per tenant that failed (and per name a tenant did not list).</summary>
        public IReadOnlyList<MSCommerceException> Errors { get; }
    }

    /// <summary>What <c>exportReport</c> wrote, and the tenants it could not read.</summary>
    internal sealed class ReportExport
    {
        internal ReportExport(string path, IReadOnlyList<MSCommerceException> errors)
        {
            Path = path;
            Errors = errors;
        }

        /// <summary>The page.</summary>
        internal string Path { get; }

        /// <summary>One non-terminating error per tenant that could not be read.</summary>
        internal IReadOnlyList<MSCommerceException> Errors { get; }
    }
}
