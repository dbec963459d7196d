using System;
using System.Runtime.Serialization;

namespace MSCommerce.Interop
{
    /// <summary>
    /// An entry point for hosts that load MSCommerce.dll without PowerShell (the Rust interop test
    /// hosts .NET through hostfxr and calls <c>MSCommerce.Interop.HostProbe, MSCommerce</c> /
    /// <c>Probe</c> with the default component entry-point signature). It goes through the normal
    /// loader and <see cref="CoreClient"/>, and touches no System.Management.Automation type,
    /// which cannot be loaded outside PowerShell.
    /// </summary>
    public static class HostProbe
    {
        /// <summary>The arguments could not be read.</summary>
        public const int InvalidArguments = -1;

        /// <summary>The native library could not be loaded, or refused the client configuration.</summary>
        public const int ClientFailed = -2;

        /// <summary>The request failed (an error envelope).</summary>
        public const int RequestFailed = -3;

        /// <summary>Anything else went wrong.</summary>
        public const int UnexpectedFailure = -4;

        /// <summary>
        /// Reads <c>{"serviceUri": "...", "token": "..."}</c> (UTF-8, <paramref name="byteLength"/>
        /// bytes), runs <c>getPolicies</c> and returns how many policies came back; a negative
        /// number on any failure. Never throws.
        /// </summary>
        public static int Probe(IntPtr utf8Json, int byteLength)
        {
            try
            {
                if (utf8Json == IntPtr.Zero || byteLength <= 0)
                {
                    return InvalidArguments;
                }

                ProbeArguments arguments;
                try
                {
                    arguments = Json.Deserialize<ProbeArguments>(Utf8.Read(utf8Json, byteLength).TrimEnd('\0'));
                }
                catch (SerializationException)
                {
                    return InvalidArguments;
                }

                if (arguments == null || string.IsNullOrEmpty(arguments.ServiceUri))
                {
                    return InvalidArguments;
                }

                CoreClient client;
                try
                {
                    client = CoreClient.Create(arguments.ServiceUri!);
                }
                catch (MSCommerceException)
                {
                    return ClientFailed;
                }

                using (client)
                {
                    try
                    {
                        return client.GetPolicies(arguments.Token).Count;
                    }
                    catch (MSCommerceException)
                    {
                        return RequestFailed;
                    }
                }
            }
            catch (Exception)
            {
                return UnexpectedFailure;
            }
        }

        [DataContract]
        private sealed class ProbeArguments
        {
            [DataMember(Name = "serviceUri")]
            public string? ServiceUri { get; set; }

            [DataMember(Name = "token")]
            public string? Token { get; set; }
        }
    }
}
