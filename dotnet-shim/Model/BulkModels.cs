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

    /// <summary>
    /// What a command would change, item by item, as the core planned it (<c>planUpdate</c>,
    /// <c>planImport</c>): each item is shown to <c>-WhatIf</c> and <c>-Confirm</c>, and the
    /// approved ones are sent together.
    /// </summary>
    public sealed class UpdatePlan
    {
        internal UpdatePlan(IReadOnlyList<PlannedUpdate> items, IReadOnlyList<MSCommerceException> errors)
        {
            Items = items;
            Errors = errors;
        }

        /// <summary>The updates, in order.</summary>
        public IReadOnlyList<PlannedUpdate> Items { get; }

        /// <summary>One error per name that matched no product.</summary>
        public IReadOnlyList<MSCommerceException> Errors { get; }
    }

    /// <summary>One update of a plan: how ShouldProcess shows it, and what is sent once it is approved.</summary>
    public sealed class PlannedUpdate
    {
        internal PlannedUpdate(MSCommerce.Interop.BulkTargetWire update, string target, string action)
        {
            Update = update;
            Target = target;
            Action = action;
        }

        /// <summary>What the change is about: the id, with the name and value now where known.</summary>
        public string Target { get; }

        /// <summary>What the change does, such as <c>Set AllowSelfServicePurchase to Disabled</c>.</summary>
        public string Action { get; }

        /// <summary>The item of the bulk update, with its value.</summary>
        internal MSCommerce.Interop.BulkTargetWire Update { get; }
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
