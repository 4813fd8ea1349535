using System.Diagnostics;
using MannLab.Runs;

namespace MannLab.Jobs;

/// <summary>
/// One run trained in a child process, as <see cref="TrainingProtocol"/> states. Each training gets
/// a process of its own: torch's thread count is process-wide, and a crash in libtorch takes down
/// only that run.
/// </summary>
public sealed class TrainingProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Queue<string> _errorTail = new();
    private readonly Lock _gate = new();

    private TrainingProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>How this program runs itself: the apphost, or <c>dotnet mannlab.dll</c> under the test host.</summary>
    public static (string File, string[] Prefix) SelfCommand()
    {
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program is running");
        if (Path.GetFileNameWithoutExtension(path) != "dotnet") return (path, []);
        var dll = Path.Combine(AppContext.BaseDirectory, "mannlab.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: the training command must be built next to the worker");
        return (path, [dll]);
    }

    public static TrainingProcess Start(string runId, string worker, string connectionString, string checkpoint, string logFile)
    {
        var (file, prefix) = SelfCommand();
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in prefix) start.ArgumentList.Add(a);
        foreach (var a in TrainingProtocol.Arguments(runId, worker, checkpoint)) start.ArgumentList.Add(a);
        start.Environment[TrainingProtocol.DatabaseVariable] = connectionString;
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var training = new TrainingProcess(process, log);
        process.OutputDataReceived += (_, e) => training.Write(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => training.Write(e.Data, error: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return training;
    }

    private void Write(string? line, bool error)
    {
        if (line is null) return;
        lock (_gate)
        {
            _log.WriteLine(line);
            if (!error) return;
            _errorTail.Enqueue(line);
            if (_errorTail.Count > 12) _errorTail.Dequeue();
        }
    }

    public int ProcessId => _process.Id;

    /// <summary>The last lines the process wrote to stderr, for the run's error.</summary>
    public string ErrorTail
    {
        get
        {
            lock (_gate) return string.Join("\n", _errorTail);
        }
    }

    /// <summary>Asks the process to checkpoint and stop at the next iteration.</summary>
    public void RequestStop()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // the process is gone already
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to end; its exit code, or null if it still runs.</summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return null;
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
        lock (_gate) _log.Dispose();
    }
}
