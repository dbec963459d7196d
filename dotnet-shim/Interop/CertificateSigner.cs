using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;

namespace MSCommerce.Interop
{
    /// <summary>
    /// Signs the core's client assertions with certificates' private keys, which never leave
    /// .NET: a key may be non-exportable (the Windows certificate store, a smart card, a TPM), so
    /// the core builds the assertion and asks, through the ABI's sign callback, for the signature
    /// of its bytes. Certificates are registered under a key id that the <c>connect</c> request
    /// carries.
    /// </summary>
    internal static class CertificateSigner
    {
        // The MC_SIGN_* codes of docs/abi.md.
        private const int SignOk = 0;
        private const int SignFailed = 1;
        private const int SignBufferTooSmall = 2;
        private const int SignUnknownKey = 3;

        // Static readonly: the native side keeps the pointer for the life of the process.
        private static readonly NativeMethods.McSignCallback Callback = OnSign;

        private static readonly ConcurrentDictionary<ulong, X509Certificate2> Keys =
            new ConcurrentDictionary<ulong, X509Certificate2>();

        private static long lastKeyId;

        /// <summary>Registers the sign callback with <paramref name="api"/> (with the log and progress callbacks, once per process).</summary>
        internal static void Register(NativeApi api) => api.SetSignCallback(Marshal.GetFunctionPointerForDelegate(Callback));

        /// <summary>
        /// Keeps <paramref name="certificate"/> for signing and describes it for the
        /// <c>connect</c> request; the core checks the description (private key, validity)
        /// before anything is sent.
        /// </summary>
        internal static RawCertificateWire Add(X509Certificate2 certificate)
        {
            var keyId = unchecked((ulong)Interlocked.Increment(ref lastKeyId));
            Keys[keyId] = certificate;
            byte[] sha256;
            using (var hash = SHA256.Create())
            {
                sha256 = hash.ComputeHash(certificate.RawData);
            }

            return new RawCertificateWire
            {
                KeyId = keyId,
                ThumbprintSha1 = certificate.Thumbprint,
                ThumbprintSha256 = BitConverter.ToString(sha256).Replace("-", string.Empty),
                NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime()).ToUnixTimeSeconds(),
                NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds(),
                HasPrivateKey = certificate.HasPrivateKey,
                Subject = certificate.Subject,
            };
        }

        /// <summary>Forgets the certificate registered under <paramref name="keyId"/>.</summary>
        internal static void Remove(ulong keyId) => Keys.TryRemove(keyId, out _);

        /// <summary>The signature of <paramref name="data"/> as <paramref name="algorithm"/> (RS256 or PS256) says, or null when the key cannot sign.</summary>
        internal static byte[]? Sign(ulong keyId, string algorithm, byte[] data)
        {
            if (!Keys.TryGetValue(keyId, out var certificate))
            {
                return null;
            }

            var padding = algorithm == "PS256" ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
            using (var rsa = certificate.GetRSAPrivateKey())
            {
                return rsa?.SignData(data, HashAlgorithmName.SHA256, padding);
            }
        }

        private static int OnSign(ulong keyId, IntPtr algorithm, IntPtr data, UIntPtr dataLength, IntPtr signature, UIntPtr signatureCapacity, out UIntPtr signatureLength)
        {
            signatureLength = UIntPtr.Zero;
            try
            {
                if (!Keys.ContainsKey(keyId))
                {
                    return SignUnknownKey;
                }

                var bytes = new byte[checked((int)dataLength.ToUInt64())];
                Marshal.Copy(data, bytes, 0, bytes.Length);
                var signed = Sign(keyId, Utf8.Read(algorithm) ?? string.Empty, bytes);
                if (signed == null)
                {
                    return SignFailed;
                }

                signatureLength = new UIntPtr((ulong)signed.Length);
                if ((ulong)signed.Length > signatureCapacity.ToUInt64())
                {
                    return SignBufferTooSmall;
                }

                Marshal.Copy(signed, 0, signature, signed.Length);
                return SignOk;
            }
            catch (Exception)
            {
                // Never unwind into the native caller: a key that refuses (a cancelled PIN
                // prompt, a smart card removed) fails the sign-in, which the core words.
                return SignFailed;
            }
        }
    }
}
