using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class InvocationChannelTests
{
    [Fact]
    public void Events_posted_from_other_threads_are_delivered_in_order_on_the_pumping_thread()
    {
        var channel = InvocationRouter.Open();
        var sink = new RecordingSink();
        try
        {
            var native = new Thread(() =>
            {
                for (var i = 0; i < 50; i++)
                {
                    InvocationRouter.Route(channel.OperationId, CoreLogLevel.Verbose, "line " + i);
                }

                InvocationRouter.Route(new CoreProgress(channel.OperationId, "Getting policies", "Done", 100, completed: true));
                channel.Complete();
            });
            native.Start();

            channel.Pump(sink);
            native.Join();
        }
        finally
        {
            InvocationRouter.Close(channel);
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => "Verbose: line " + i).Append("Progress: Getting policies 100"), sink.Lines);
        Assert.All(sink.Threads, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public void Events_of_another_operation_are_not_delivered()
    {
        var mine = InvocationRouter.Open();
        var other = InvocationRouter.Open();
        var sink = new RecordingSink();
        try
        {
            InvocationRouter.Route(other.OperationId, CoreLogLevel.Warning, "not mine");
            InvocationRouter.Route(mine.OperationId, CoreLogLevel.Debug, "mine");
            mine.Complete();

            mine.Pump(sink);
        }
        finally
        {
            InvocationRouter.Close(mine);
            InvocationRouter.Close(other);
        }

        Assert.Equal(["Debug: mine"], sink.Lines);
    }

    [Fact]
    public void Events_after_the_request_ended_are_dropped()
    {
        var channel = InvocationRouter.Open();
        var sink = new RecordingSink();
        InvocationRouter.Close(channel);

        InvocationRouter.Route(channel.OperationId, CoreLogLevel.Verbose, "late");
        channel.Pump(sink);

        Assert.Empty(sink.Lines);
    }

    [Fact]
    public void A_sink_that_throws_ends_the_pump_with_its_exception()
    {
        var channel = InvocationRouter.Open();
        try
        {
            InvocationRouter.Route(channel.OperationId, CoreLogLevel.Verbose, "boom");

            Assert.Throws<InvalidOperationException>(() => channel.Pump(new ThrowingSink()));
        }
        finally
        {
            InvocationRouter.Close(channel);
        }
    }

    [Fact]
    public void Each_request_gets_a_distinct_nonzero_operation_id()
    {
        var first = InvocationRouter.Open();
        var second = InvocationRouter.Open();
        InvocationRouter.Close(first);
        InvocationRouter.Close(second);

        Assert.NotEqual(0UL, first.OperationId);
        Assert.NotEqual(first.OperationId, second.OperationId);
    }

    private sealed class RecordingSink : IInvocationSink
    {
        public List<string> Lines { get; } = [];

        public List<int> Threads { get; } = [];

        public void WriteLog(CoreLogLevel level, string message) => Record(level + ": " + message);

        public void WriteProgress(CoreProgress progress) => Record("Progress: " + progress.Activity + " " + progress.PercentComplete);

        private void Record(string line)
        {
            Lines.Add(line);
            Threads.Add(Environment.CurrentManagedThreadId);
        }
    }

    private sealed class ThrowingSink : IInvocationSink
    {
        public void WriteLog(CoreLogLevel level, string message) => throw new InvalidOperationException(message);

        public void WriteProgress(CoreProgress progress) => throw new InvalidOperationException(progress.Activity);
    }
}
