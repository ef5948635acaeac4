# The protocol client: one long-lived `bms2intune rpc` process per PowerShell session.
# Requests go to its stdin as one JSON line each; its stdout carries NDJSON events (progress, log,
# result) tagged with the request id. Secrets only ever travel inside a request on stdin: the
# process is started with the single argument `rpc`.

$script:BmsProtocolVersion = 1
$script:BmsRpc = @{
    Process    = $null
    Writer     = $null
    StderrTask = $null
    Stderr     = $null
    NextId     = 0
    Binary     = $null
    Version    = $null
    Commands   = @()
}
# Set by Connect-BmsGraph: a closure building the "auth" params of apply requests (secrets kept
# as SecureString until a request is written), and the national cloud's Graph/login endpoints.
$script:BmsGraphAuth = $null
$script:BmsGraphEndpoints = [ordered]@{}

function Test-BmsWindows {
    [CmdletBinding()]
    [OutputType([bool])]
    param()
    if ($PSVersionTable.PSEdition -ne 'Core') { return $true }
    return [bool]$IsWindows
}

function Get-BmsPlatformTag {
    <# The bin/<os>-<arch> folder name of this machine, e.g. windows-x64, linux-arm64. #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $os = 'linux'
    if (Test-BmsWindows) { $os = 'windows' } elseif ($IsMacOS) { $os = 'macos' }
    $arch = 'x64'
    try {
        $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
    } catch {
        # Older .NET Framework without RuntimeInformation: fall back to the environment.
        if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { $arch = 'arm64' }
        elseif ($env:PROCESSOR_ARCHITECTURE -eq 'x86') { $arch = 'x86' }
    }
    return "$os-$arch"
}

function ConvertTo-BmsErrorRecord {
    <# Builds the ErrorRecord for a protocol error: ErrorId = the stable code, TargetObject = the file/row. #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [string] $Code,
        [Parameter(Mandatory)] [string] $Message,
        [object[]] $Details = @(),
        [System.Management.Automation.ErrorCategory] $Category = [System.Management.Automation.ErrorCategory]::NotSpecified
    )
    if ($Category -eq [System.Management.Automation.ErrorCategory]::NotSpecified) {
        $Category = switch -Wildcard ($Code) {
            'protocol.*' { [System.Management.Automation.ErrorCategory]::InvalidArgument }
            'workspace.missing*' { [System.Management.Automation.ErrorCategory]::ObjectNotFound }
            'workspace.no_tenant' { [System.Management.Automation.ErrorCategory]::ObjectNotFound }
            'workspace.*' { [System.Management.Automation.ErrorCategory]::InvalidData }
            'import.*' { [System.Management.Automation.ErrorCategory]::InvalidData }
            'graph.auth*' { [System.Management.Automation.ErrorCategory]::AuthenticationError }
            'graph.*' { [System.Management.Automation.ErrorCategory]::ConnectionError }
            '*.not_available' { [System.Management.Automation.ErrorCategory]::NotImplemented }
            'internal.*' { [System.Management.Automation.ErrorCategory]::NotSpecified }
            default { [System.Management.Automation.ErrorCategory]::InvalidOperation }
        }
    }
    $target = $null
    foreach ($d in @($Details)) {
        if ($null -eq $d) { continue }
        $names = @($d.PSObject.Properties | ForEach-Object { $_.Name })
        if ($names -contains 'file' -or $names -contains 'row' -or $names -contains 'path' -or $names -contains 'param') {
            # path: the offending request field (params.files); param: a param whose value is wrong.
            $field = $d.path
            if (-not $field -and $d.param) { $field = "params.$($d.param)" }
            $target = [pscustomobject][ordered]@{
                PSTypeName = 'Bms2Intune.ErrorTarget'
                File       = $d.file
                Sheet      = $d.sheet
                Row        = $d.row
                Column     = $d.column
                Path       = $field
                Value      = $d.value
            }
            break
        }
    }
    $exception = New-Object System.Exception -ArgumentList $Message
    $exception.Data['Code'] = $Code
    $exception.Data['Details'] = $Details
    $record = New-Object System.Management.Automation.ErrorRecord -ArgumentList $exception, $Code, $Category, $target
    return $record
}

function Get-BmsBinaryPath {
    <# Finds the binary: $env:BMS2INTUNE_BIN, then the module's bin/<os>-<arch>/, then PATH. #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $exe = 'bms2intune'
    if (Test-BmsWindows) { $exe = 'bms2intune.exe' }
    if ($env:BMS2INTUNE_BIN) {
        if (Test-Path -LiteralPath $env:BMS2INTUNE_BIN -PathType Leaf) {
            return (Resolve-Path -LiteralPath $env:BMS2INTUNE_BIN).ProviderPath
        }
        throw (ConvertTo-BmsErrorRecord -Code 'module.binary_not_found' -Category ObjectNotFound -Message "BMS2INTUNE_BIN is '$($env:BMS2INTUNE_BIN)', which is not a file. Point it at the bms2intune binary or remove the variable.")
    }
    $tag = Get-BmsPlatformTag
    $bundled = Join-Path -Path (Join-Path -Path (Join-Path -Path $script:BmsModuleRoot -ChildPath 'bin') -ChildPath $tag) -ChildPath $exe
    if (Test-Path -LiteralPath $bundled -PathType Leaf) { return $bundled }
    $onPath = Get-Command -Name $exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($onPath) { return $onPath.Path }
    throw (ConvertTo-BmsErrorRecord -Code 'module.binary_not_found' -Category ObjectNotFound -Message "Cannot find the bms2intune binary. Set `$env:BMS2INTUNE_BIN to its full path, put it in '$(Split-Path -Path $bundled -Parent)', or add its folder to PATH.")
}

function Receive-BmsRpcStderr {
    <# Drains what the process wrote to stderr so far (never blocks): to Verbose, and kept for error messages. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [hashtable] $Session)
    while ($Session.StderrTask -and $Session.StderrTask.IsCompleted) {
        $line = $null
        if (-not $Session.StderrTask.IsFaulted) { $line = $Session.StderrTask.Result }
        if ($null -eq $line) { $Session.StderrTask = $null; break }
        Write-Verbose -Message "bms2intune stderr: $line"
        $Session.Stderr.Enqueue($line)
        while ($Session.Stderr.Count -gt 20) { [void]$Session.Stderr.Dequeue() }
        $Session.StderrTask = $Session.Process.StandardError.ReadLineAsync()
    }
}

function Read-BmsRpcLine {
    <# Reads one stdout line; waits in short slices so stderr is drained and Ctrl+C is honoured. Returns $null at EOF. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [hashtable] $Session)
    $task = $Session.Process.StandardOutput.ReadLineAsync()
    while (-not $task.Wait(200)) { Receive-BmsRpcStderr -Session $Session }
    Receive-BmsRpcStderr -Session $Session
    return $task.Result
}

function Close-BmsRpcSession {
    <# Stops the rpc process: closing stdin lets it finish; killed if it does not exit in 5 s. #>
    [CmdletBinding()]
    param()
    $s = $script:BmsRpc
    if ($s.Process) {
        try {
            if ($s.Writer) { $s.Writer.Dispose() }
            if (-not $s.Process.HasExited -and -not $s.Process.WaitForExit(5000)) { $s.Process.Kill() }
        } catch {
            Write-Verbose -Message "bms2intune rpc process did not close cleanly: $($_.Exception.Message)"
        } finally {
            $s.Process.Dispose()
        }
    }
    $s.Process = $null
    $s.Writer = $null
    $s.StderrTask = $null
}

function Open-BmsRpcSession {
    <# Returns the running rpc session, starting (or restarting) the process and checking the protocol version. #>
    [CmdletBinding()]
    [OutputType([hashtable])]
    param()
    $s = $script:BmsRpc
    if ($s.Process -and -not $s.Process.HasExited) { return $s }
    if ($s.Process) {
        Write-Warning -Message "The bms2intune rpc process ended (exit code $($s.Process.ExitCode)); starting a new one."
        Close-BmsRpcSession
    }
    $binary = Get-BmsBinaryPath
    $utf8 = New-Object System.Text.UTF8Encoding -ArgumentList $false
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = $binary
    $psi.Arguments = 'rpc'
    $psi.UseShellExecute = $false
    $psi.CreateNoWindow = $true
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.StandardOutputEncoding = $utf8
    $psi.StandardErrorEncoding = $utf8
    $psi.WorkingDirectory = (Get-Location -PSProvider FileSystem).ProviderPath
    $process = New-Object System.Diagnostics.Process
    $process.StartInfo = $psi
    try {
        [void]$process.Start()
    } catch {
        throw (ConvertTo-BmsErrorRecord -Code 'module.binary_start_failed' -Category ResourceUnavailable -Message "Cannot start '$binary rpc': $($_.Exception.Message)")
    }
    # Our own UTF-8 writer without BOM: Windows PowerShell 5.1 would otherwise send the ANSI code page.
    $writer = New-Object System.IO.StreamWriter -ArgumentList $process.StandardInput.BaseStream, $utf8
    $s.Process = $process
    $s.Writer = $writer
    $s.Stderr = New-Object 'System.Collections.Generic.Queue[string]'
    $s.StderrTask = $process.StandardError.ReadLineAsync()
    $s.Binary = $binary
    Write-Verbose -Message "Started '$binary rpc' (process $($process.Id))."
    $mismatch = "The bms2intune binary at '$binary' speaks another protocol than this Bms2Intune module ($($MyInvocation.MyCommand.Module.Version), protocol $($script:BmsProtocolVersion)). Install the binary and the module from the same release, or point `$env:BMS2INTUNE_BIN at the matching binary."
    try {
        $hello = Send-BmsRpcRequest -Command 'hello' -Params @{}
    } catch {
        if ($_.FullyQualifiedErrorId -like 'protocol.unsupported_version*') {
            Close-BmsRpcSession
            throw (ConvertTo-BmsErrorRecord -Code 'module.protocol_mismatch' -Category InvalidOperation -Message "$mismatch It said: $($_.Exception.Message)")
        }
        throw
    }
    if ($hello.protocol -ne $script:BmsProtocolVersion) {
        Close-BmsRpcSession
        throw (ConvertTo-BmsErrorRecord -Code 'module.protocol_mismatch' -Category InvalidOperation -Message "$mismatch It is version $($hello.version) and speaks protocol $($hello.protocol).")
    }
    $s.Version = $hello.version
    $s.Commands = @($hello.commands | ForEach-Object { $_.name })
    return $s
}

function Send-BmsRpcRequest {
    <#
    Sends one request on the open session and reads its events until the result:
    progress -> Write-Progress, log info -> Write-Verbose, log warning/error -> Write-Warning,
    error result -> terminating ErrorRecord (ErrorId = protocol code, TargetObject = file/row).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Command,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Params,
        [switch] $Sensitive
    )
    $s = $script:BmsRpc
    $s.NextId = $s.NextId + 1
    $id = "ps-$($s.NextId)"
    $request = [ordered]@{ protocol = $script:BmsProtocolVersion; id = $id; command = $Command; params = $Params }
    $line = ConvertTo-Json -InputObject $request -Depth 20 -Compress
    if ($Sensitive) {
        Write-Verbose -Message "bms2intune request $id`: $Command (parameters not shown: they hold a secret)"
    } else {
        Write-Verbose -Message "bms2intune request: $line"
    }
    try {
        $s.Writer.Write($line + "`n")
        $s.Writer.Flush()
    } catch {
        throw (ConvertTo-BmsErrorRecord -Code 'module.rpc_write_failed' -Category ResourceUnavailable -Message "Cannot send the request to the bms2intune rpc process: $($_.Exception.Message)")
    } finally {
        $line = $null
    }
    $activity = "bms2intune $Command"
    $finished = $false
    $outcome = $null
    try {
        while (-not $finished) {
            $text = Read-BmsRpcLine -Session $s
            if ($null -eq $text) {
                $exitCode = $null
                if ($s.Process.WaitForExit(2000)) { $exitCode = $s.Process.ExitCode }
                Receive-BmsRpcStderr -Session $s
                $tail = (@($s.Stderr) -join [Environment]::NewLine)
                $finished = $true
                Close-BmsRpcSession
                throw (ConvertTo-BmsErrorRecord -Code 'module.rpc_process_exited' -Category ResourceUnavailable -Message "The bms2intune rpc process ended (exit code $exitCode) before answering '$Command'. It will be restarted on the next command. Its last messages: $tail")
            }
            if ($text.Trim().Length -eq 0) { continue }
            try {
                $evt = ConvertFrom-Json -InputObject $text
            } catch {
                Write-Warning -Message "bms2intune wrote a line that is not JSON; ignored: $text"
                continue
            }
            # Requests are answered in order, so a result without id (the binary could not read
            # our line) is ours; events of an abandoned earlier request are skipped.
            if ($null -eq $evt.id -and $evt.event -eq 'result') { $evt.id = $id }
            if ($evt.id -ne $id) {
                Write-Verbose -Message "Ignoring an event for request '$($evt.id)'."
                continue
            }
            switch ($evt.event) {
                'progress' {
                    $percent = -1
                    if ($evt.total -gt 0) { $percent = [int][Math]::Min(100, [Math]::Floor(100 * $evt.done / $evt.total)) }
                    Write-Progress -Activity $activity -Status ('{0}: {1}/{2}' -f $evt.phase, $evt.done, $evt.total) -PercentComplete $percent
                }
                'log' {
                    $message = '[{0}] {1}' -f $evt.code, $evt.message
                    if ($evt.level -eq 'info') { Write-Verbose -Message $message }
                    elseif ($evt.level -eq 'error') { Write-Warning -Message "error $message" }
                    else { Write-Warning -Message $message }
                }
                'result' {
                    $finished = $true
                    $outcome = $evt
                }
                default { Write-Verbose -Message "Ignoring unknown event '$($evt.event)'." }
            }
        }
    } finally {
        Write-Progress -Activity $activity -Completed
        if (-not $finished) {
            # Interrupted (Ctrl+C, pipeline stopped) while the process was still answering: its
            # remaining events would confuse the next request, so start afresh next time.
            Close-BmsRpcSession
        }
    }
    if ($outcome.ok) { return $outcome.result }
    $err = $outcome.error
    throw (ConvertTo-BmsErrorRecord -Code $err.code -Message $err.message -Details @($err.details))
}

function Invoke-BmsRpc {
    <# Runs one protocol command in the session's rpc process and returns its result object. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Command,
        [Parameter(Mandatory)] [System.Collections.IDictionary] $Params,
        [switch] $Sensitive
    )
    $s = Open-BmsRpcSession
    if (@($s.Commands).Count -gt 0 -and @($s.Commands) -notcontains $Command) {
        # Not sent at all: a binary without the command has no use for its params (a secret, say).
        throw (ConvertTo-BmsErrorRecord -Code 'protocol.unknown_command' -Message "The bms2intune binary '$($s.Binary)' (version $($s.Version)) has no '$Command' command; it has: $(@($s.Commands) -join ', ').")
    }
    try {
        return Send-BmsRpcRequest -Command $Command -Params $Params -Sensitive:$Sensitive
    } catch {
        if ($_.FullyQualifiedErrorId -notlike 'module.rpc_write_failed*') { throw }
        # The process died between requests: nothing was processed, so one retry is safe.
        Close-BmsRpcSession
        $null = Open-BmsRpcSession
        return Send-BmsRpcRequest -Command $Command -Params $Params -Sensitive:$Sensitive
    }
}
