using System.Collections.Generic;

namespace MSCommerce
{
    /// <summary>What one item of a bulk update came to: the updated item, or why it failed.</summary>
    public sealed class UpdateOutcome
    {
        internal UpdateOutcome(string id, object? item, MSCommerceException? error)
        {
            Id = id;
            Item = item;
            Error = error;
        }

        /// <summary>The product id or offer type as given.</summary>
        public string Id { get; }

        /// <summary>The updated <see cref="ProductPolicy"/> or <see cref="ScopePolicy"/>; null when the update failed.</summary>
        public object? Item { get; }

        /// <summary>Why the update failed; null when it succeeded.</summary>
        public MSCommerceException? Error { get; }
    }

    /// <summary>The items a selection (-All, -ProductName, -Exclude) picked, and the names that matched nothing.</summary>
    public sealed class ItemSelection
    {
        internal ItemSelection(IReadOnlyList<object> items, IReadOnlyList<MSCommerceException> errors)
        {
            Items = items;
            Errors = errors;
        }

        /// <summary>The picked items with their values now.</summary>
        public IReadOnlyList<object> Items { get; }

        /// <summary>One error per name that matched no product.</summary>
        public IReadOnlyList<MSCommerceException> Errors { get; }
    }

    /// <summary>What Export-MSCommercePolicy wrote.</summary>
    public sealed class BaselineExport
    {
        internal BaselineExport(string path, string policyId, int products, int offerTypes)
        {
            Path = path;
            PolicyId = policyId;
            Products = products;
            OfferTypes = offerTypes;
        }

        /// <summary>The file.</summary>
        public string Path { get; }

        /// <summary>The policy.</summary>
        public string PolicyId { get; }

        /// <summary>How many products the file holds.</summary>
        public int Products { get; }

        /// <summary>How many offer types the file holds.</summary>
        public int OfferTypes { get; }
    }

    /// <summary>One tab-completion candidate.</summary>
    public sealed class CompletionCandidate
    {
        internal CompletionCandidate(string value, string tooltip)
        {
            Value = value;
            Tooltip = tooltip;
        }

        /// <summary>What completes the word.</summary>
        public string Value { get; }

        /// <summary>What is shown beside it (a product's name).</summary>
        public string Tooltip { get; }
    }
}
