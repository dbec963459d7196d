using System;

namespace MSCommerce
{
    /// <summary>
    /// The one exception the module's core client throws: an error envelope from the native
    /// library, or a failure of the shim itself (the native library missing, a malformed reply).
    /// The cmdlets turn it into an ErrorRecord whose FullyQualifiedErrorId starts with <see cref="Code"/>.
    /// </summary>
    public sealed class MSCommerceException : Exception
    {
        /// <summary>Creates the exception; <paramref name="category"/> is the name of a PowerShell ErrorCategory.</summary>
        public MSCommerceException(
            string code,
            string category,
            bool terminating,
            string message,
            string? target = null,
            string? correlationId = null,
            int? httpStatus = null,
            string? details = null,
            Exception? innerException = null)
            : base(message, innerException)
        {
            Code = code;
            Category = category;
            Terminating = terminating;
            Target = target;
            CorrelationId = correlationId;
            HttpStatus = httpStatus;
            Details = details;
        }

        /// <summary>A stable name (<c>NotConnected</c>, <c>NotFound</c>, ...): the start of the FullyQualifiedErrorId.</summary>
        public string Code { get; }

        /// <summary>The name of the PowerShell ErrorCategory (<c>ObjectNotFound</c>, ...).</summary>
        public string Category { get; }

        /// <summary>Whether the cmdlet stops (true) or writes a non-terminating error and goes on.</summary>
        public bool Terminating { get; }

        /// <summary>What the failure is about, usually the id the user passed.</summary>
        public string? Target { get; }

        /// <summary>The <c>x-ms-correlation-id</c> of the failed service call, for support cases.</summary>
        public string? CorrelationId { get; }

        /// <summary>The HTTP status of the failed service call, if one was made.</summary>
        public int? HttpStatus { get; }

        /// <summary>The service's response body, if any.</summary>
        public string? Details { get; }
    }

    /// <summary>The error codes the shim produces itself (the native library has its own, see docs/abi.md).</summary>
    internal static class ShimErrorCodes
    {
        internal const string NativeLibraryUnavailable = "NativeLibraryUnavailable";
        internal const string InvalidResponse = "InvalidResponse";
        internal const string Internal = "Internal";
        internal const string InvalidArgument = "InvalidArgument";
        internal const string InvalidHandle = "InvalidHandle";
        internal const string Cancelled = "Cancelled";
    }
}
