using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// What every MSCommerce cmdlet shares: this runspace's client, cancellation from
    /// StopProcessing (Ctrl+C), the request's log lines and progress written to the pipeline, and
    /// failures turned into error records.
    /// </summary>
    public abstract class MSCommerceCmdletBase : PSCmdlet, IInvocationSink, IDisposable
    {
        private readonly CancellationTokenSource stopping = new CancellationTokenSource();

        /// <summary>Fires when PowerShell stops the pipeline.</summary>
        protected CancellationToken StopToken => stopping.Token;

        /// <summary>Releases the cancellation source.</summary>
        public void Dispose() => stopping.Dispose();

        /// <summary>Passes the request in flight the stop.</summary>
        protected override void StopProcessing()
        {
            try
            {
                stopping.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The cmdlet has already finished.
            }
        }

        /// <summary>
        /// Calls <paramref name="call"/> with this runspace's client, the stop token and this cmdlet
        /// as the sink, and writes what it returns (collections one item at a time). A failed
        /// request becomes a terminating or non-terminating error, as the error says; a client that
        /// cannot be created (native library missing, bad MSCOMMERCE_SERVICE_URI) always terminates.
        /// </summary>
        protected void WriteResult<T>(Func<CoreClient, CancellationToken, IInvocationSink, T> call)
            where T : class =>
            WriteResult(call, beforeOutput: null);

        /// <summary>
        /// As <see cref="WriteResult{T}(Func{CoreClient, CancellationToken, IInvocationSink, T})"/>,
        /// running <paramref name="beforeOutput"/> (a host line) after success and before the output.
        /// </summary>
        protected void WriteResult<T>(Func<CoreClient, CancellationToken, IInvocationSink, T> call, Action? beforeOutput)
            where T : class
        {
            CoreClient client;
            try
            {
                client = MSCommerceSession.GetClient();
            }
            catch (MSCommerceException e)
            {
                // Without a client no cmdlet of this runspace can work: always terminating.
                ThrowTerminatingError(ToErrorRecord(e));
                return;
            }

            var result = Run((stop, sink) => call(client, stop, sink));
            if (result == null)
            {
                return;
            }

            beforeOutput?.Invoke();
            WriteObject(result, enumerateCollection: true);
        }

        /// <summary>
        /// Writes what a request run in several tenants came to: every tenant's objects, then one
        /// non-terminating error per tenant that failed (aimed at the tenant). Not being connected
        /// at all, or a bad request, stays a terminating error, as without tenants.
        /// </summary>
        protected void WriteTenantResults(Func<CoreClient, CancellationToken, IInvocationSink, TenantResults> call)
        {
            var client = Client();
            var results = Run((stop, sink) => call(client, stop, sink));
            if (results == null)
            {
                return;
            }

            WriteObject(results.Items, enumerateCollection: true);
            foreach (var error in results.Errors)
            {
                WriteError(ToErrorRecord(error));
            }
        }

        /// <summary>
        /// Runs <paramref name="call"/> with the stop token and this cmdlet as the sink. A failure is
        /// written (terminating or not, as the error says) and gives null.
        /// </summary>
        protected T? Run<T>(Func<CancellationToken, IInvocationSink, T> call)
            where T : class
        {
            try
            {
                return call(StopToken, this);
            }
            catch (MSCommerceException e)
            {
                WriteFailure(e);
                return null;
            }
        }

        /// <summary>
        /// This runspace's client; a client that cannot be created (native library missing, bad
        /// configuration) is a terminating error.
        /// </summary>
        protected CoreClient Client()
        {
            try
            {
                return MSCommerceSession.GetClient();
            }
            catch (MSCommerceException e)
            {
                ThrowTerminatingError(ToErrorRecord(e));
                throw;
            }
        }

        /// <summary>
        /// Writes what a bulk update came to, in the order of its items: each updated item as
        /// output, each failed one as one non-terminating error whose target is the item's id.
        /// Returns how many succeeded.
        /// </summary>
        protected int WriteOutcomes(IReadOnlyList<UpdateOutcome> outcomes, Action? beforeFirstOutput = null)
        {
            var succeeded = 0;
            foreach (var outcome in outcomes)
            {
                if (outcome.Item != null)
                {
                    if (succeeded++ == 0)
                    {
                        beforeFirstOutput?.Invoke();
                    }

                    WriteObject(outcome.Item);
                }
                else if (outcome.Error != null)
                {
                    WriteError(ToErrorRecord(outcome.Error));
                }
            }

            return succeeded;
        }

        /// <summary>
        /// The file-system path of a PowerShell path (relative to the current location, drives
        /// such as <c>TestDrive:</c> included), without requiring the file to exist.
        /// </summary>
        protected string FileSystemPath(string path)
        {
            var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
            if (!string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException("The path '" + path + "' is not a file-system path (its provider is " + provider.Name + ")."),
                    "NotAFileSystemPath",
                    ErrorCategory.InvalidArgument,
                    path));
            }

            return resolved;
        }

        /// <summary>
        /// Writes a line to the host the way Write-Host does (the information stream, tagged
        /// PSHOST), so scripts see the original's host lines and can still redirect them with 6>.
        /// </summary>
        protected void WriteHostLine(string message) =>
            WriteInformation(new HostInformationMessage { Message = message, NoNewLine = false }, new[] { "PSHOST" });

        /// <summary>
        /// The error record of <paramref name="exception"/>: its code as the error id (PowerShell
        /// appends the cmdlet), its category, and its target. The service's response body stays on
        /// <see cref="MSCommerceException.Details"/>: the record's ErrorDetails is left empty,
        /// because PowerShell would print it instead of the contract's message (which already quotes the body).
        /// </summary>
        internal static ErrorRecord ToErrorRecord(MSCommerceException exception)
        {
            var category = Enum.TryParse<ErrorCategory>(exception.Category, ignoreCase: false, out var parsed) && Enum.IsDefined(typeof(ErrorCategory), parsed)
                ? parsed
                : ErrorCategory.NotSpecified;
            return new ErrorRecord(exception, exception.Code, category, exception.Target);
        }

        void IInvocationSink.WriteLog(CoreLogLevel level, string message)
        {
            switch (level)
            {
                case CoreLogLevel.Error:
                case CoreLogLevel.Warning:
                    WriteWarning(message);
                    break;
                case CoreLogLevel.Information:
                    WriteInformation(message, new[] { "MSCommerce" });
                    break;
                case CoreLogLevel.Verbose:
                    WriteVerbose(message);
                    break;
                default:
                    WriteDebug(message);
                    break;
            }
        }

        void IInvocationSink.WriteProgress(CoreProgress progress)
        {
            var request = ActivityId(progress.OperationId);
            // A tenant's bar sits under the request's own, with an id of its own.
            var record = new ProgressRecord(progress.Bar <= 0 ? request : ActivityId((progress.OperationId * 1000) + (ulong)progress.Bar), progress.Activity, progress.Status)
            {
                PercentComplete = progress.PercentComplete,
                RecordType = progress.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                ParentActivityId = progress.Bar <= 0 ? -1 : request,
            };
            WriteProgress(record);
        }

        private static int ActivityId(ulong operationId) => (int)(operationId % int.MaxValue);

        private void WriteFailure(MSCommerceException exception)
        {
            if (Stopping || (stopping.IsCancellationRequested && exception.Code == ShimErrorCodes.Cancelled))
            {
                throw new PipelineStoppedException();
            }

            var record = ToErrorRecord(exception);
            if (exception.Terminating)
            {
                ThrowTerminatingError(record);
            }
            else
            {
                WriteError(record);
            }
        }
    }
}
