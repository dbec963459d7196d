using System.Runtime.InteropServices;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class Utf8Tests
{
    [Fact]
    public void A_string_sent_to_the_library_comes_back_unchanged_including_non_ascii()
    {
        const string text = "Grüße, Ωmega ✓ 𝄞 \"quoted\"";
        var buffer = Utf8.Allocate(text, out var length);
        try
        {
            Assert.Equal(text, Utf8.Read(buffer));
        }
        finally
        {
            Utf8.Free(buffer, length);
        }
    }

    [Fact]
    public void A_buffer_sent_to_the_library_is_nul_terminated_utf8()
    {
        var buffer = Utf8.Allocate("é", out var length);
        try
        {
            Assert.Equal(3, length);
            Assert.Equal(0xC3, Marshal.ReadByte(buffer, 0));
            Assert.Equal(0xA9, Marshal.ReadByte(buffer, 1));
            Assert.Equal(0, Marshal.ReadByte(buffer, 2));
        }
        finally
        {
            Utf8.Free(buffer, length);
        }
    }

    [Fact]
    public void A_null_native_string_reads_as_null()
    {
        Assert.Null(Utf8.Read(IntPtr.Zero));
    }
}
