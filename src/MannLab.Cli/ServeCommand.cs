using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using MannLab.Data;
using MannLab.Jobs;
using MannLab.Web;

namespace MannLab.Cli;

/// <summary><c>mannlab serve</c>, and the web options <c>up</c> shares: the pages and the Hangfire dashboard.</summary>
public static class ServeCommand
{
    public const int DefaultPort = 8470;

    public sealed record Options(Option<string> Bind, Option<int> Port, Option<string?> Token, Option<string> Dashboards)
    {
        public IEnumerable<Option> All => [Bind, Port, Token, Dashboards];
    }

    public static Options WebOptions() => new(
        new Option<string>("--bind") { Description = "Address to serve on; anything but 127.0.0.1 needs a token", DefaultValueFactory = _ => "127.0.0.1" },
        new Option<int>("--port") { Description = "Web port (0: any free port)", DefaultValueFactory = _ => DefaultPort },
        new Option<string?>("--token") { Description = "Token that requests from other machines must give (default: $MANNLAB_TOKEN)" },
        new Option<string>("--dashboards") { Description = "Folder of dashboard files", DefaultValueFactory = _ => Path.Combine(MannLabHome.Path, "dashboards") });

    public static Command Create()
    {
        var web = WebOptions();
        var db = JobCommandSupport.DbOption();
        var command = new Command("serve", "Serve MannLab's pages and the Hangfire dashboard, without workers");
        foreach (var option in web.All.Append(db)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            using var stop = new JobCommandSupport.StopSignal("stopping...");
            using var jobs = JobCommandSupport.Open(parse.GetValue(db), WorkerCommand.Log);
            if (jobs is null) return 1;
            var host = Start(jobs, parse, web, WorkerCommand.Log).GetAwaiter().GetResult();
            if (host is null) return 1;
            stop.Token.WaitHandle.WaitOne();
            host.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    /// <summary>Starts the web host, or prints why it can't and returns null.</summary>
    public static async Task<WebHost?> Start(JobSystem jobs, ParseResult parse, Options web, Action<string> log)
    {
        var port = parse.GetValue(web.Port);
        var bind = parse.GetValue(web.Bind)!;
        if (port != 0 && !IsFree(bind, port))
        {
            log($"port {port} is taken; using a free one (--port chooses)");
            port = 0;
        }
        var (readOnly, asReader) = await jobs.Database.ReadOnlyAsync();
        if (!asReader) log("dashboard SQL runs in read-only transactions as MannLab's user (no mannlab_reader role; see db/README.md)");
        var token = parse.GetValue(web.Token) ?? (Environment.GetEnvironmentVariable("MANNLAB_TOKEN") is { Length: > 0 } t ? t : null);
        try
        {
            var host = await WebHost.StartAsync(jobs.Storage, jobs.Database.DataSource, id => jobs.RetryAsync(id), new Web.WebOptions(bind, port, token,
                parse.GetValue(web.Dashboards)!, readOnly));
            log($"pages: {host.Address}/  jobs: {host.Address}/hangfire");
            return host;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return null;
        }
    }

    private static bool IsFree(string bind, int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.TryParse(bind, out var address) ? address : IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
