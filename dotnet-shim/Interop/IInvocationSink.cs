namespace MSCommerce.Interop
{
    /// <summary>The levels of <c>mc_log_callback</c>.</summary>
    public enum CoreLogLevel
    {
        /// <summary>An error the library logs (the failure itself still comes as an error envelope).</summary>
        Error = 1,

        /// <summary>A warning.</summary>
        Warning = 2,

        /// <summary>Information.</summary>
        Information = 3,

        /// <summary>Verbose detail.</summary>
        Verbose = 4,

        /// <summary>Debug detail.</summary>
        Debug = 5,
    }

    /// <summary>One progress report of a running request.</summary>
    public sealed class CoreProgress
    {
        /// <summary>Creates a report.</summary>
        public CoreProgress(ulong operationId, string activity, string status, int percentComplete, bool completed, int bar = 0)
        {
            Bar = bar;
            OperationId = operationId;
            Activity = activity;
            Status = status;
            PercentComplete = percentComplete;
            Completed = completed;
        }

        /// <summary>The request the report belongs to.</summary>
        public ulong OperationId { get; }

        /// <summary>What is being done.</summary>
        public string Activity { get; }

        /// <summary>Where it stands.</summary>
        public string Status { get; }

        /// <summary>0 to 100, or -1 when unknown.</summary>
        public int PercentComplete { get; }

        /// <summary>Whether the activity has ended.</summary>
        public bool Completed { get; }

        /// <summary>0 for the request's own progress bar; 1, 2, ... for a bar under it (one per tenant).</summary>
        public int Bar { get; }
    }

    /// <summary>
    /// Receives a request's log lines and progress on the thread that called
    /// <see cref="CoreClient"/>, so a cmdlet can write them to its own pipeline.
    /// </summary>
    public interface IInvocationSink
    {
        /// <summary>One log line of the request.</summary>
        void WriteLog(CoreLogLevel level, string message);

        /// <summary>One progress report of the request.</summary>
        void WriteProgress(CoreProgress progress);
    }
}
