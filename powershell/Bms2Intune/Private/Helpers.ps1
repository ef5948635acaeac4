# Small helpers the public cmdlets share: paths, the workspace, secrets, typed output.

function Resolve-BmsPath {
    <#
    An absolute file-system path for a path the user typed (relative to PowerShell's current
    location, which the rpc process does not share). The path need not exist.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param([Parameter(Mandatory)] [string] $Path)
    return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function Resolve-BmsWorkspace {
    <# The workspace folder: -Workspace, else $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work; always absolute. #>
    [CmdletBinding()]
    [OutputType([string])]
    param([AllowEmptyString()] [AllowNull()] [string] $Workspace)
    if ([string]::IsNullOrEmpty($Workspace)) { $Workspace = $env:BMS2INTUNE_WORKSPACE }
    if ([string]::IsNullOrEmpty($Workspace)) { $Workspace = 'bms2intune-work' }
    return Resolve-BmsPath -Path $Workspace
}

function ConvertTo-BmsSecureString {
    <# A SecureString from text the module itself obtained (a token, a generated password). #>
    [CmdletBinding()]
    [OutputType([System.Security.SecureString])]
    param([Parameter(Mandatory)] [string] $Text)
    $secure = New-Object System.Security.SecureString
    foreach ($c in $Text.ToCharArray()) { $secure.AppendChar($c) }
    $secure.MakeReadOnly()
    return $secure
}

function ConvertTo-BmsArray {
    <# A JSON array from ConvertFrom-Json as a PowerShell array (never $null, never unrolled to a scalar). #>
    [CmdletBinding()]
    param([AllowNull()] [object] $Value)
    if ($null -eq $Value) { return , @() }
    return , @($Value)
}

function Get-BmsUnavailableError {
    <#
    When the binary does not know a command or parameter yet (an older or partial build), a clear
    error naming the feature instead of a bare protocol error. Other errors come back unchanged.
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)] [System.Management.Automation.ErrorRecord] $ErrorRecord,
        [Parameter(Mandatory)] [string] $Feature
    )
    $id = [string]$ErrorRecord.FullyQualifiedErrorId
    if ($id -like 'protocol.unknown_command*' -or $id -like 'protocol.params.unknown*' -or $id -like '*.not_available*') {
        $version = $script:BmsRpc.Version
        return (ConvertTo-BmsErrorRecord -Code 'module.not_available' -Category NotImplemented -Message "$Feature is not available in this bms2intune binary (version $version, '$($script:BmsRpc.Binary)'): $($ErrorRecord.Exception.Message) Install a bms2intune release that provides it.")
    }
    return $ErrorRecord
}

function ConvertTo-BmsMigrationAction {
    <#
    The apply result as Bms2Intune.MigrationAction objects (one per Graph operation, planned,
    done, skipped or failed), its notes as warnings, and a non-terminating error when operations
    failed (the journal lets the same command, run again, resume).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [AllowNull()] [object] $Result
    )
    if ($null -eq $Result) { return }
    Write-Verbose -Message ('{0}: {1} planned, {2} done, {3} skipped, {4} failed; {5} Graph request(s); journal {6}.' -f $Result.step, $Result.planned, $Result.done, $Result.skipped, $Result.failed, $Result.requests, $Result.journal)
    foreach ($n in (ConvertTo-BmsArray $Result.notes)) { Write-Warning -Message $n }
    foreach ($o in (ConvertTo-BmsArray $Result.operations)) {
        [pscustomobject][ordered]@{
            PSTypeName = 'Bms2Intune.MigrationAction'
            Step       = $Result.step
            Wave       = $Result.wave
            DryRun     = [bool]$Result.dry_run
            Outcome    = $o.outcome
            Method     = $o.method
            Path       = $o.path
            Summary    = $o.summary
            ObjectId   = $o.object_id
            Reason     = $o.reason
            RequestId  = $o.request_id
            Operation  = $o.op
            Sku        = $Result.sku
        }
    }
    if ([int]$Result.failed -gt 0) {
        $record = ConvertTo-BmsErrorRecord -Code 'apply.partial_failure' -Category InvalidResult -Message "$($Result.failed) operation(s) of $($Result.step) failed (the Reason of each says why); fix the cause and run the same command again: the journal ($($Result.journal)) makes it resume."
        $PSCmdlet.WriteError($record)
    }
}
