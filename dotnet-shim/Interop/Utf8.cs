using System;
using System.Runtime.InteropServices;
using System.Text;

namespace MSCommerce.Interop
{
    /// <summary>
    /// UTF-8 strings across the C ABI. netstandard2.0 has no <c>Marshal.PtrToStringUTF8</c>, so
    /// native strings are measured and decoded here; outgoing strings are NUL-terminated buffers
    /// from the process heap that the caller frees with <see cref="Free"/>.
    /// </summary>
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        /// <summary>Encodes <paramref name="value"/> with a terminating NUL, for the native side to read.</summary>
        internal static byte[] ToNullTerminated(string value)
        {
            var length = Strict.GetByteCount(value);
            var bytes = new byte[length + 1];
            Strict.GetBytes(value, 0, value.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Copies <paramref name="value"/> into a new NUL-terminated unmanaged buffer.</summary>
        internal static IntPtr Allocate(string value, out int byteLength)
        {
            var bytes = ToNullTerminated(value);
            byteLength = bytes.Length;
            var buffer = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, buffer, bytes.Length);
            Array.Clear(bytes, 0, bytes.Length);
            return buffer;
        }

        /// <summary>Zeroes (requests may hold a token) and frees a buffer from <see cref="Allocate"/>.</summary>
        internal static void Free(IntPtr buffer, int byteLength)
        {
            if (buffer == IntPtr.Zero)
            {
                return;
            }

            for (var i = 0; i < byteLength; i++)
            {
                Marshal.WriteByte(buffer, i, 0);
            }

            Marshal.FreeHGlobal(buffer);
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string; null for a null pointer. Does not free it.</summary>
        internal static string? Read(IntPtr value)
        {
            if (value == IntPtr.Zero)
            {
                return null;
            }

            var length = 0;
            while (Marshal.ReadByte(value, length) != 0)
            {
                length++;
            }

            return Read(value, length);
        }

        /// <summary>Decodes <paramref name="byteLength"/> bytes of UTF-8 (invalid sequences become U+FFFD).</summary>
        internal static string Read(IntPtr value, int byteLength)
        {
            if (byteLength == 0)
            {
                return string.Empty;
            }

            var bytes = new byte[byteLength];
            Marshal.Copy(value, bytes, 0, byteLength);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
