using System.Text;
using System.Runtime.InteropServices;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class HostProbeTests
{
    [Theory]
    [InlineData("")]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"token\":\"t\"}")]
    public void Unreadable_arguments_give_a_negative_number_instead_of_an_exception(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var buffer = Marshal.AllocHGlobal(Math.Max(1, bytes.Length));
        try
        {
            Marshal.Copy(bytes, 0, buffer, bytes.Length);

            Assert.Equal(HostProbe.InvalidArguments, HostProbe.Probe(buffer, bytes.Length));
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    [Fact]
    public void A_null_pointer_gives_a_negative_number()
    {
        Assert.Equal(HostProbe.InvalidArguments, HostProbe.Probe(IntPtr.Zero, 10));
    }
}
