using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace MSCommerce.Interop
{
    /// <summary>
    /// Routes the native library's process-wide log and progress callbacks to the request that
    /// caused them, by operation id. The callbacks run on Rust worker threads; they only queue the
    /// event, and the thread that made the request delivers it (see <see cref="InvocationChannel.Pump"/>).
    /// </summary>
    internal static class InvocationRouter
    {
        // Static readonly: the native side keeps the function pointers for the life of the
        // process, so the delegates behind them must never be collected.
        private static readonly NativeMethods.McLogCallback LogCallback = OnLog;
        private static readonly NativeMethods.McProgressCallback ProgressCallback = OnProgress;

        private static readonly ConcurrentDictionary<ulong, InvocationChannel> Channels =
            new ConcurrentDictionary<ulong, InvocationChannel>();

        private static readonly object Gate = new object();
        private static NativeApi? registeredWith;
        private static long lastOperationId;

        /// <summary>Registers the callbacks with <paramref name="api"/>, once per process.</summary>
        internal static void EnsureRegistered(NativeApi api)
        {
            lock (Gate)
            {
                if (ReferenceEquals(registeredWith, api))
                {
                    return;
                }

                api.SetLogCallback(Marshal.GetFunctionPointerForDelegate(LogCallback));
                api.SetProgressCallback(Marshal.GetFunctionPointerForDelegate(ProgressCallback));
                CertificateSigner.Register(api);
                registeredWith = api;
            }
        }

        /// <summary>Opens the channel of a new request, with a fresh operation id.</summary>
        internal static InvocationChannel Open()
        {
            var channel = new InvocationChannel(unchecked((ulong)Interlocked.Increment(ref lastOperationId)));
            Channels[channel.OperationId] = channel;
            return channel;
        }

        /// <summary>Stops routing to <paramref name="channel"/>; later events for it are dropped.</summary>
        internal static void Close(InvocationChannel channel)
        {
            Channels.TryRemove(channel.OperationId, out _);
            channel.Complete();
        }

        /// <summary>Queues one log event (what the native callback does; internal for tests).</summary>
        internal static void Route(ulong operationId, CoreLogLevel level, string message)
        {
            if (Channels.TryGetValue(operationId, out var channel))
            {
                channel.Post(sink => sink.WriteLog(level, message));
            }
        }

        /// <summary>Queues one progress event (what the native callback does; internal for tests).</summary>
        internal static void Route(CoreProgress progress)
        {
            if (Channels.TryGetValue(progress.OperationId, out var channel))
            {
                channel.Post(sink => sink.WriteProgress(progress));
            }
        }

        private static void OnLog(ulong operationId, int level, IntPtr message)
        {
            // An exception must never cross back into Rust.
            try
            {
                if (Channels.ContainsKey(operationId))
                {
                    var known = level >= (int)CoreLogLevel.Error && level <= (int)CoreLogLevel.Debug;
                    Route(operationId, known ? (CoreLogLevel)level : CoreLogLevel.Debug, Utf8.Read(message) ?? string.Empty);
                }
            }
            catch (Exception)
            {
                // A lost log line is better than a crashed host.
            }
        }

        private static void OnProgress(ulong operationId, IntPtr progressJson)
        {
            try
            {
                if (Channels.ContainsKey(operationId))
                {
                    var json = Utf8.Read(progressJson);
                    if (json != null)
                    {
                        var progress = Json.Deserialize<ProgressWire>(json);
                        var percent = progress.PercentComplete;
                        Route(new CoreProgress(
                            operationId,
                            string.IsNullOrEmpty(progress.Activity) ? "MSCommerce" : progress.Activity!,
                            string.IsNullOrEmpty(progress.Status) ? (progress.Completed ? "Completed" : "Working") : progress.Status!,
                            percent < -1 ? -1 : percent > 100 ? 100 : percent,
                            progress.Completed,
                            progress.Bar));
                    }
                }
            }
            catch (Exception)
            {
                // A lost progress report is better than a crashed host.
            }
        }
    }

    /// <summary>
    /// The queue of one request's events. Native threads post; the requesting thread pumps until the
    /// request completes, so every sink call happens on that thread.
    /// </summary>
    internal sealed class InvocationChannel
    {
        private readonly object gate = new object();
        private readonly Queue<Action<IInvocationSink>> events = new Queue<Action<IInvocationSink>>();
        private bool completed;

        internal InvocationChannel(ulong operationId) => OperationId = operationId;

        /// <summary>The id sent as the request's <c>operationId</c>.</summary>
        internal ulong OperationId { get; }

        /// <summary>Whether <see cref="Complete"/> was called.</summary>
        internal bool IsCompleted
        {
            get
            {
                lock (gate)
                {
                    return completed;
                }
            }
        }

        /// <summary>Queues an event; ignored once the channel is complete.</summary>
        internal void Post(Action<IInvocationSink> deliver)
        {
            lock (gate)
            {
                if (completed)
                {
                    return;
                }

                events.Enqueue(deliver);
                Monitor.PulseAll(gate);
            }
        }

        /// <summary>Ends the request: <see cref="Pump"/> returns once the queue is drained.</summary>
        internal void Complete()
        {
            lock (gate)
            {
                completed = true;
                Monitor.PulseAll(gate);
            }
        }

        /// <summary>
        /// Delivers events to <paramref name="sink"/> (dropped when null) on the calling thread until
        /// the channel is complete and empty. An exception from the sink ends the pump.
        /// </summary>
        internal void Pump(IInvocationSink? sink)
        {
            while (true)
            {
                Action<IInvocationSink> deliver;
                lock (gate)
                {
                    while (events.Count == 0 && !completed)
                    {
                        Monitor.Wait(gate);
                    }

                    if (events.Count == 0)
                    {
                        return;
                    }

                    deliver = events.Dequeue();
                }

                if (sink != null)
                {
                    deliver(sink);
                }
            }
        }
    }
}
